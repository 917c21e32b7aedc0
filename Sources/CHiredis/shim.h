#ifndef IDCARD_OCR_CHIREDIS_SHIM_H
#define IDCARD_OCR_CHIREDIS_SHIM_H
#include <hiredis/hiredis.h>
#endif
