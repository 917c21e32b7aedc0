"""The size detection runs at, chosen for ID cards."""


def detection_size(height, width, at_least, at_most):
    """(height, width) for text detection, multiples of 32 as the network needs.

    The shorter side is scaled up to `at_least` (the stock server's rule, which keeps the text of
    a small or low-resolution photo large enough to be found), then the longer side down to
    `at_most` (the stock server leaves a 2,000 px photo at 2,000 px: three times the work for text
    that is large anyway, since a card fills most of a photo of it). Detection finds lines only;
    recognition reads them from the image at its own resolution.
    """
    if height <= 0 or width <= 0:
        return height, width
    ratio = max(1.0, at_least / min(height, width))
    ratio = min(ratio, at_most / max(height, width))
    return max(32, int(round(height * ratio / 32)) * 32), max(32, int(round(width * ratio / 32)) * 32)
