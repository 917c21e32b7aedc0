"""What the pixels say about a card photo, beside its text: the measures behind `warnings`.

Each measure is computed over the card's text area (the bounding box of the detected lines),
so the background around a card photographed on a desk does not count; each has a threshold,
chosen on the synthetic cards (`scripts/accuracy` reports each warning's precision and recall).
"""
from dataclasses import dataclass

import cv2
import numpy as np


@dataclass(frozen=True)
class Thresholds:
    #: Variance of the Laplacian over the text area, the text scaled to 32 px lines: below it,
    #: `blurred`.
    sharpness: float = 110.0
    #: With too few lines to measure them: the whole picture's Laplacian variance (longer side at
    #: 960 px) below this, `blurred`.
    overall_sharpness: float = 20.0
    #: Share of the text area that is saturated (every channel at 250 or more): above it, `glare`.
    glare_share: float = 0.005
    #: Mean spread between a pixel's largest and smallest channel, over the whole image: below it,
    #: the pixels are grey (`copy`, for a three-channel file).
    chroma: float = 3.0
    #: A line's box closer to the frame than this many lines: the card runs out of the picture
    #: (`border_incomplete`).
    edge_margin: float = 1.0
    #: Within this many lines of the frame, a strip with more than `ink_share` of edge pixels
    #: holds strokes of a line cut too short to be detected: also `border_incomplete`.
    ink_reach: float = 2.0
    ink_share: float = 0.02


def text_area(boxes, height, width):
    """(top, bottom, left, right) around every box, inside the image; None without boxes."""
    if len(boxes) == 0:
        return None
    points = np.concatenate([np.asarray(box, dtype=np.float64).reshape(-1, 2) for box in boxes])
    left, top = np.clip(points.min(axis=0), 0, [width - 1, height - 1]).astype(int)
    right, bottom = np.clip(points.max(axis=0), 0, [width - 1, height - 1]).astype(int)
    if right <= left or bottom <= top:
        return None
    return top, bottom + 1, left, right + 1


def line_height(boxes):
    """The median height of the lines (their boxes' shorter side)."""
    heights = []
    for box in boxes:
        corners = np.asarray(box, dtype=np.float64).reshape(-1, 2)
        sides = [np.linalg.norm(corners[i] - corners[(i + 1) % 4]) for i in range(4)]
        heights.append(min(sides))
    return float(np.median(heights)) if heights else 0.0


def sharpness(grey, boxes):
    """The median over the lines of the variance of the Laplacian, each line scaled to 32 px
    high: a focused line's strokes make strong second derivatives, a blurred one's do not,
    whatever the photo's resolution or the size of the print (the emblem side's title is three
    times its other lines)."""
    height, width = grey.shape[:2]
    values = []
    for box in boxes:
        corners = np.asarray(box, dtype=np.float64).reshape(-1, 2)
        left, top = np.clip(corners.min(axis=0), 0, [width - 1, height - 1]).astype(int)
        right, bottom = np.clip(corners.max(axis=0), 0, [width - 1, height - 1]).astype(int)
        tall = line_height([box])
        if right - left < 4 or bottom - top < 4 or tall < 4:
            continue
        crop = grey[top:bottom + 1, left:right + 1]
        scale = 32.0 / tall
        crop = cv2.resize(crop, (max(8, int(crop.shape[1] * scale)), max(8, int(crop.shape[0] * scale))), interpolation=cv2.INTER_AREA)
        values.append(cv2.Laplacian(crop, cv2.CV_64F).var())
    return float(np.median(values)) if values else None


def glare_share(rgb, boxes):
    """The share of the text area whose every channel is saturated: a reflection that wipes out
    what is under it (a card's white is a light grey; only a reflection reaches 250 in all three)."""
    area = text_area(boxes, *rgb.shape[:2])
    if area is None or rgb.ndim != 3:
        return None
    top, bottom, left, right = area
    crop = rgb[top:bottom, left:right, :3]
    return float(np.mean(crop.min(axis=2) >= 250))


def chroma(rgb):
    """The mean spread between a pixel's largest and smallest channel: near 0 for grey pixels,
    whatever the file's channels; a colour photo's is tens."""
    if rgb.ndim != 3:
        return 0.0
    pixels = rgb[::4, ::4, :3].astype(np.int16)
    return float(np.mean(pixels.max(axis=2) - pixels.min(axis=2)))


def nearest_edge(boxes, height, width):
    """How close the nearest line comes to the frame, in lines (the median line's height): a
    whole card keeps a margin of more than a line around its text (1.4 lines on a tight scan),
    so a line closer than one to the frame has lost the card's edge beyond it."""
    if len(boxes) == 0:
        return None
    tall = line_height(boxes)
    points = np.concatenate([np.asarray(box, dtype=np.float64).reshape(-1, 2) for box in boxes])
    gaps = np.concatenate([points[:, 0], width - 1 - points[:, 0], points[:, 1], height - 1 - points[:, 1]])
    return float(max(gaps.min(), 0) / max(tall, 1.0))


def ink_at_edge(grey, boxes, reach):
    """The largest share of edge pixels (Canny) in a strip between the lines and a frame edge
    nearer than `reach` lines: strokes of a line the frame cut, too little of it left to be
    detected as one. A whole card's margin there is plain (one straight card edge at most)."""
    height, width = grey.shape[:2]
    area = text_area(boxes, height, width)
    tall = line_height(boxes)
    if area is None or tall < 4:
        return 0.0
    top, bottom, left, right = area
    strips = []
    if top / tall < reach:
        strips.append(grey[0:top, left:right])
    if (height - bottom) / tall < reach:
        strips.append(grey[bottom:height, left:right])
    if left / tall < reach:
        strips.append(grey[top:bottom, 0:left])
    if (width - right) / tall < reach:
        strips.append(grey[top:bottom, right:width])
    densest = 0.0
    for strip in strips:
        if min(strip.shape[:2]) >= 3:
            densest = max(densest, float(np.mean(cv2.Canny(strip, 60, 160) > 0)))
    return densest


def overall_sharpness(grey):
    """Variance of the Laplacian over the whole picture, its longer side scaled to 960 px; None
    for a picture without contrast (blank: nothing there to be sharp or blurred)."""
    if float(grey.std()) < 4:
        return None
    scale = 960.0 / max(grey.shape[:2])
    small = cv2.resize(grey, (max(8, int(grey.shape[1] * scale)), max(8, int(grey.shape[0] * scale))), interpolation=cv2.INTER_AREA)
    return float(cv2.Laplacian(small, cv2.CV_64F).var())


#: Fewer lines than this and the measures over lines mean little (a blur so strong that
#: detection found a blob or two): the whole picture's sharpness stands in, and no edge is judged.
FEWEST_LINES = 3


def warnings(rgb, boxes, thresholds=Thresholds()):
    """The warnings the pixels and the lines' boxes support, in a fixed order; and the measures."""
    grey = rgb if rgb.ndim == 2 else cv2.cvtColor(rgb[:, :, :3], cv2.COLOR_RGB2GRAY)
    if len(boxes) < FEWEST_LINES:
        whole = overall_sharpness(grey)
        measures = {"sharpness": None, "overall": whole, "glare": None, "chroma": chroma(rgb), "edge": None, "ink": 0.0}
        found = ["blurred"] if whole is not None and whole < thresholds.overall_sharpness else []
        return found + (["copy"] if measures["chroma"] < thresholds.chroma else []), measures
    measures = {"sharpness": sharpness(grey, boxes), "glare": glare_share(rgb, boxes), "chroma": chroma(rgb),
                "edge": nearest_edge(boxes, *grey.shape[:2]), "ink": ink_at_edge(grey, boxes, thresholds.ink_reach)}
    found = []
    if measures["sharpness"] is not None and measures["sharpness"] < thresholds.sharpness:
        found.append("blurred")
    if measures["glare"] is not None and measures["glare"] > thresholds.glare_share:
        found.append("glare")
    if measures["edge"] is not None and measures["edge"] < thresholds.edge_margin or measures["ink"] > thresholds.ink_share:
        found.append("border_incomplete")
    if measures["chroma"] < thresholds.chroma:
        found.append("copy")
    return found, measures
