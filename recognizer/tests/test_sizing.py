"""The detection size, without a model."""
import unittest

from idocr_recognizer.sizing import detection_size


class DetectionSize(unittest.TestCase):
    def test_a_small_photo_is_scaled_up_to_the_shorter_side(self):
        self.assertEqual(detection_size(400, 550, 736, 2000), (736, 1024))

    def test_the_longer_side_caps_the_scale(self):
        # A low-resolution photo scaled up, but not past 960 on its longer side.
        self.assertEqual(detection_size(400, 550, 736, 960), (704, 960))
        # A card scan: 540 → 736 would make it 1,167 wide; 960 caps it.
        self.assertEqual(detection_size(540, 856, 736, 960), (608, 960))

    def test_a_large_photo_is_scaled_down(self):
        self.assertEqual(detection_size(1500, 2000, 736, 960), (704, 960))
        self.assertEqual(detection_size(800, 1100, 736, 960), (704, 960))

    def test_upright_and_multiples_of_32(self):
        height, width = detection_size(1100, 800, 736, 960)
        self.assertEqual((height, width), (960, 704))
        self.assertEqual((height % 32, width % 32), (0, 0))

    def test_nothing_below_one_block(self):
        self.assertEqual(detection_size(3, 2000, 736, 960), (32, 960))


if __name__ == "__main__":
    unittest.main()
