"""The pixel measures behind the warnings, on small images made here."""
import unittest

import cv2
import numpy as np

from idocr_recognizer import signals


def card(width=600, height=380):
    """A light card with rows of dark strokes, and the lines' boxes."""
    image = np.full((height, width, 3), (236, 234, 224), dtype=np.uint8)
    boxes = []
    for row, y in enumerate(range(60, height - 60, 50)):
        cv2.putText(image, "ID 1234567890" if row % 2 else "NAME ABCDEFG", (60, y + 25), cv2.FONT_HERSHEY_SIMPLEX, 0.9, (20, 20, 20), 2)
        boxes.append([[56, y], [330, y], [330, y + 32], [56, y + 32]])
    return image, boxes


class Warnings(unittest.TestCase):
    def test_a_sharp_colour_card_raises_nothing(self):
        image, boxes = card()
        found, measures = signals.warnings(image, boxes)
        self.assertEqual(found, [], measures)

    def test_a_blurred_card(self):
        image, boxes = card()
        found, _ = signals.warnings(cv2.GaussianBlur(image, (0, 0), 4), boxes)
        self.assertIn("blurred", found)

    def test_a_saturated_patch_over_the_text(self):
        image, boxes = card()
        cv2.circle(image, (200, 150), 45, (255, 255, 255), -1)
        found, _ = signals.warnings(image, boxes)
        self.assertIn("glare", found)

    def test_grey_pixels_in_three_channels(self):
        image, boxes = card()
        grey = cv2.cvtColor(cv2.cvtColor(image, cv2.COLOR_RGB2GRAY), cv2.COLOR_GRAY2RGB)
        self.assertIn("copy", signals.warnings(grey, boxes)[0])
        self.assertIn("copy", signals.warnings(grey[:, :, 0], boxes)[0], "a single channel is grey too")

    def test_a_line_at_the_frame(self):
        image, boxes = card()
        cut = image[:, 40:]  # the lines start 16 px from the left edge now: less than a line
        moved = [[[x - 40, y] for x, y in box] for box in boxes]
        self.assertIn("border_incomplete", signals.warnings(cut, moved)[0])

    def test_strokes_between_the_lines_and_the_frame(self):
        image, boxes = card()
        # The first line's box is not given (too little of it for detection): its strokes lie
        # between the remaining lines and the top of the frame.
        self.assertIn("border_incomplete", signals.warnings(image[70:], [[[x, y - 70] for x, y in box] for box in boxes[1:]])[0])

    def test_no_lines_no_measures(self):
        image, _ = card()
        found, measures = signals.warnings(image, [])
        self.assertEqual(found, [])
        self.assertIsNone(measures["sharpness"])


if __name__ == "__main__":
    unittest.main()
