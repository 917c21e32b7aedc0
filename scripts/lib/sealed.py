"""Opening idcard-ocr's sealed values in Python (docs/operations.md, "Encryption at rest", shows this file).

With IDOCR_ENCRYPTION_KEYS set, a worker stores a result's `body`, a dead letter's `job` (or
`raw`) and its remembered recognitions as envelopes:

    {"idocr_encrypted": 1, "alg": "A256GCM", "kid": "2026-11", "data": "<base64 of nonce(12) | ciphertext | tag(16)>"}

AES-256-GCM; the associated data is the value's place: "result.body:<job id>", "dead.job:<job id>"
("dead.job:" when the job had no valid id), "dead.raw:". Needs `pip install cryptography`.
"""
import base64, json

from cryptography.hazmat.primitives.ciphers.aead import AESGCM


def load_keys(text):
    """{kid: key bytes} from the IDOCR_ENCRYPTION_KEYS form: "kid:base64key" entries, comma or line separated."""
    entries = text.replace(",", " ").split()
    return {kid: base64.b64decode(key) for kid, key in (entry.split(":", 1) for entry in entries)}


def is_sealed(value):
    return isinstance(value, dict) and value.get("idocr_encrypted") == 1


def open_sealed(value, keys, place):
    """The plaintext bytes of an envelope; raises if altered, moved or sealed with an unknown key."""
    blob = base64.b64decode(value["data"])
    return AESGCM(keys[value["kid"]]).decrypt(blob[:12], blob[12:], place.encode())


def read_result(raw, keys):
    """A result as stored at P:{Q}:result:<id> (or pushed to replyTo), its body opened."""
    result = json.loads(raw)
    if is_sealed(result.get("body")):
        result["body"] = json.loads(open_sealed(result["body"], keys, "result.body:" + result["id"]))
    return result


def read_dead_letter(raw, keys):
    """A dead letter as stored at P:{Q}:dead, its job (or raw element) opened."""
    letter = json.loads(raw)
    if is_sealed(letter.get("job")):
        letter["job"] = json.loads(open_sealed(letter["job"], keys, "dead.job:" + letter.get("id", "")))
    if is_sealed(letter.get("raw")):
        letter["raw"] = open_sealed(letter["raw"], keys, "dead.raw:").decode("utf-8", "replace")
    return letter
