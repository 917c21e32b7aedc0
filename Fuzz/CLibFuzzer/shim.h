// libFuzzer's driver, linked in by -sanitize=fuzzer. Called from a Swift main rather than using
// libFuzzer's own main, which SwiftPM's renaming of executables' main would leave undefined.
#include <stddef.h>
#include <stdint.h>
int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*callback)(const uint8_t *data, size_t size));
