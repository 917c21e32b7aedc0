import CLibFuzzer
import Foundation

// libFuzzer parses the command line (corpus directories, -max_total_time, ...) and calls back.
var arguments = CommandLine.argc
var values: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
exit(
    LLVMFuzzerRunDriver(&arguments, &values) { data, size in
        guard let data else { return 0 }
        return fuzzRapidOCRAnswer(data, size)
    }
)
