"""The server's settings and its CPU arithmetic, without a server."""
import unittest

from idocr_recognizer.settings import Settings, SettingsError, cpus_allowed


class CPUs(unittest.TestCase):
    def test_a_cgroup_v2_quota_cuts_the_affinity_rounding_up(self):
        self.assertEqual(cpus_allowed(8, "150000 100000"), 2)
        self.assertEqual(cpus_allowed(8, "100000 100000"), 1)
        self.assertEqual(cpus_allowed(2, "400000 100000"), 2, "never more threads than CPUs to run them")

    def test_no_quota_leaves_the_affinity(self):
        self.assertEqual(cpus_allowed(4, "max 100000"), 4)
        self.assertEqual(cpus_allowed(4, None, "-1", "100000"), 4)
        self.assertEqual(cpus_allowed(4), 4)

    def test_a_cgroup_v1_quota(self):
        self.assertEqual(cpus_allowed(16, None, "250000\n", "100000\n"), 3)

    def test_nonsense_in_the_files_is_no_quota(self):
        self.assertEqual(cpus_allowed(4, "garbage"), 4)
        self.assertEqual(cpus_allowed(4, "x 100000"), 4)
        self.assertEqual(cpus_allowed(4, "100000 0"), 4)


class FromEnvironment(unittest.TestCase):
    def test_defaults(self):
        settings = Settings.from_environment({})
        self.assertEqual((settings.engine, settings.det_min_side, settings.det_max_side, settings.port), ("openvino", 736, 960, 9003))

    def test_each_setting_is_read(self):
        settings = Settings.from_environment({"IDOCR_RECOGNIZER_ENGINE": "onnxruntime", "IDOCR_RECOGNIZER_THREADS": "3",
                                              "IDOCR_RECOGNIZER_QUEUE": "0", "IDOCR_RECOGNIZER_DET_MIN_SIDE": "640",
                                              "IDOCR_RECOGNIZER_DET_MAX_SIDE": "1280"})
        self.assertEqual((settings.engine, settings.threads, settings.queue, settings.det_min_side, settings.det_max_side),
                         ("onnxruntime", 3, 0, 640, 1280))
        self.assertEqual(settings.inference_threads(), 3)

    def test_a_bad_value_is_refused_by_name(self):
        for name, value in (("ENGINE", "tensorflow"), ("QUEUE", "-1"), ("THREADS", "two"), ("DET_MAX_SIDE", "99999"), ("DET_MIN_SIDE", "0")):
            with self.assertRaises(SettingsError) as raised:
                Settings.from_environment({f"IDOCR_RECOGNIZER_{name}": value})
            self.assertIn(f"IDOCR_RECOGNIZER_{name}", str(raised.exception))


if __name__ == "__main__":
    unittest.main()
