/// Which node of a Redis Cluster a command goes to: the master of its first key's slot, or any
/// master for a command with no key.
enum ClusterRoute: Equatable {
    case slot(HashSlot)
    case anyMaster

    /// Commands that name no key, or whose answer is the same on every master.
    static let keyless: Set<String> = [
        "PING", "TIME", "INFO", "CONFIG", "CLUSTER", "ROLE", "CLIENT", "SCRIPT", "DBSIZE", "FLUSHALL", "FLUSHDB",
        "SUBSCRIBE", "PSUBSCRIBE", "PUBLISH", "AUTH", "SELECT", "HELLO", "ECHO", "COMMAND", "MEMORY", "DEBUG",
        "ASKING", "READONLY", "LASTSAVE", "WAIT",
    ]

    /// The route of `command`: its key is the first argument after the name, or for `EVAL` and
    /// `EVALSHA` the first of the script's keys.
    init(command: [RedisArgument]) {
        guard let name = command.first?.description.uppercased(), !Self.keyless.contains(name) else {
            self = .anyMaster
            return
        }
        let keyIndex: Int
        switch name {
        case "EVAL", "EVALSHA", "EVAL_RO", "EVALSHA_RO", "FCALL", "FCALL_RO":
            guard command.count > 3, let count = Self.integer(command[2]), count > 0 else {
                self = .anyMaster
                return
            }
            keyIndex = 3
        default:
            keyIndex = 1
        }
        guard command.count > keyIndex else {
            self = .anyMaster
            return
        }
        self = .slot(Self.slot(of: command[keyIndex]))
    }

    private static func integer(_ argument: RedisArgument) -> Int? {
        guard case .string(let text) = argument else { return nil }
        return Int(text)
    }

    static func slot(of argument: RedisArgument) -> HashSlot {
        switch argument {
        case .string(let text): HashSlot(key: text)
        case .data(let bytes): HashSlot(key: bytes)
        }
    }
}
