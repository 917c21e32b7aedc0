"""RapidOCR configured for ID cards: the engine, its threads, the detection size."""
import os
import threading
import time

import cv2

from . import signals
from .sizing import detection_size


def models_directory():
    import rapidocr
    return os.path.join(os.path.dirname(rapidocr.__file__), "models")


#: The models inside the rapidocr wheel, the stock server's: no download, nothing from outside.
MODELS = {"Det": "PP-OCRv6_det_small.onnx", "Cls": "ch_ppocr_mobile_v2.0_cls_mobile.onnx", "Rec": "PP-OCRv6_rec_small.onnx"}


def rapidocr_parameters(settings, threads):
    """RapidOCR's parameters for `settings`: the same models on the chosen engine."""
    from rapidocr import EngineType
    engine = {"openvino": EngineType.OPENVINO, "onnxruntime": EngineType.ONNXRUNTIME}[settings.engine]
    params = {
        "Global.log_level": "warning",
        "EngineConfig.openvino.inference_num_threads": threads,
        "EngineConfig.onnxruntime.intra_op_num_threads": threads,
        "EngineConfig.onnxruntime.inter_op_num_threads": 1,
    }
    for stage, model in MODELS.items():
        params[f"{stage}.engine_type"] = engine
        params[f"{stage}.model_path"] = os.path.join(models_directory(), model)
    return params


def card_ocr(params, at_least, at_most):
    """A RapidOCR whose detection runs at `sizing.detection_size`; the rest is the stock pipeline."""
    from rapidocr import RapidOCR
    from rapidocr.ch_ppocr_det.utils import DetPreProcess

    class CardDetPreProcess(DetPreProcess):
        def resize(self, img):
            height, width = detection_size(img.shape[0], img.shape[1], at_least, at_most)
            return cv2.resize(img, (width, height))

    ocr = RapidOCR(params=params)
    detector = ocr._load_det_model()
    detector.get_preprocess = lambda: CardDetPreProcess(mean=detector.mean, std=detector.std)
    return ocr


class Recognizer:
    """One pipeline; `read` runs one image at a time (a lock; the server queues in front of it)."""

    def __init__(self, settings):
        self.settings = settings
        self.threads = settings.inference_threads()
        self.ocr = card_ocr(rapidocr_parameters(settings, self.threads), settings.det_min_side, settings.det_max_side)
        self.lock = threading.Lock()

    def warm_up(self):
        """Loads the three models and runs them once, so the first request is not the slow one."""
        import numpy as np
        image = np.full((540, 856, 3), 235, dtype=np.uint8)
        cv2.putText(image, "IDOCR 0123456789", (60, 270), cv2.FONT_HERSHEY_SIMPLEX, 2, (20, 20, 20), 4)
        self.ocr._load_cls_model()
        self.read(image)

    def read(self, image):
        """`image` (an array as PIL gives it) read: the lines as rapidocr_api answers them, the
        warnings its pixels support (`signals`), and the seconds the read took."""
        with self.lock:
            started = time.perf_counter()
            result = self.ocr(image)
            answer = {}
            if getattr(result, "boxes", None) is not None and getattr(result, "txts", None) is not None:
                for index, (box, text, score) in enumerate(zip(result.boxes, result.txts, result.scores)):
                    answer[index] = {"rec_txt": text, "dt_boxes": box.tolist(), "score": score}
            found, _ = signals.warnings(image, [line["dt_boxes"] for line in answer.values()])
            took = time.perf_counter() - started
        return answer, found, took
