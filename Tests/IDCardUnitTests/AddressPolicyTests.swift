import IDCardContract
import IDCardRecognition
import Testing

@Suite("Which addresses an image URL may reach")
struct AddressPolicyTests {
    @Test(
        "loopback, private, link-local, metadata and their IPv6 disguises are refused",
        arguments: [
            "127.0.0.1", "127.1.2.3", "10.1.2.3", "172.16.0.1", "172.31.255.255", "192.168.1.1", "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0", "224.0.0.1", "255.255.255.255", "::1", "::", "[::1]", "fc00::1", "fd12:3456::1", "fe80::1",
            "ff02::1",
            "::ffff:127.0.0.1", "::ffff:169.254.169.254", "64:ff9b::a9fe:a9fe", "2002:7f00:1::", "::127.0.0.1",
            // Local-use NAT64 (RFC 8215): a translator of the operator's own, to any IPv4 behind it;
            // site-local (deprecated).
            "64:ff9b:1::a9fe:a9fe", "64:ff9b:1::808:808", "64:ff9b:1:ffff::1", "fec0::1", "feff:ffff::1",
        ]
    )
    func refused(address: String) throws {
        let parsed = try #require(IPAddress(address))
        #expect(AddressPolicy.forbiddenReason(parsed) != nil)
    }

    @Test(
        "public addresses are allowed",
        arguments: [
            "8.8.8.8", "1.1.1.1", "172.32.0.1", "192.169.0.1", "2606:4700::1111", "::ffff:8.8.8.8", "2002:0808:0808::",
        ]
    )
    func allowed(address: String) throws {
        let parsed = try #require(IPAddress(address))
        #expect(AddressPolicy.forbiddenReason(parsed) == nil)
    }

    @Test("only literal addresses parse; names and decimal forms are left to the resolver")
    func parsing() {
        #expect(IPAddress("169.254.169.254") == .v4(0xA9FE_A9FE))
        #expect(IPAddress("2130706433") == nil)
        #expect(IPAddress("example.com") == nil)
        #expect(IPAddress("::ffff:127.0.0.1")?.description == "0:0:0:0:0:ffff:7f00:1")
    }
}
