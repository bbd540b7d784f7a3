import QuillCore
import QuillTesting
import Testing

@Suite("SHA-256")
struct SHA256Tests {
    @Test(
        "matches the FIPS 180 test vectors",
        arguments: [
            ("", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
            ("abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
            (
                "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
                "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"
            ),
            (
                "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu",
                "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1"
            ),
        ]
    )
    func vectors(message: String, expected: String) {
        #expect(SHA256.hex(of: Array(message.utf8)) == expected)
    }

    @Test("one million 'a', fed in uneven pieces, matches the FIPS 180 vector")
    func millionA() {
        let expected = "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"
        #expect(SHA256.hex(of: [UInt8](repeating: UInt8(ascii: "a"), count: 1_000_000)) == expected)
        var hash = SHA256()
        let piece = [UInt8](repeating: UInt8(ascii: "a"), count: 997)
        var left = 1_000_000
        while left > 0 {
            let take = min(left, piece.count - left % 13)
            hash.update(piece[0..<take])
            left -= take
        }
        #expect(hash.byteCount == 1_000_000)
        #expect(hash.hexDigest() == expected)
    }

    @Test("every split of a message gives the same digest; finalize does not end the hash")
    func splits() {
        let message = (0..<300).map { UInt8(truncatingIfNeeded: $0 &* 7) }
        let whole = SHA256.hex(of: message)
        for cut in [0, 1, 55, 56, 63, 64, 65, 128, 299, 300] {
            var hash = SHA256()
            hash.update(message[..<cut])
            _ = hash.finalize()
            hash.update(message[cut...])
            #expect(hash.hexDigest() == whole, "cut at \(cut)")
        }
        #expect(SHA256.isHexDigest(whole))
        #expect(!SHA256.isHexDigest("ABC"))
    }

    @Test("a file is hashed as its bytes")
    func file() throws {
        let temp = TemporaryDirectory("quill-sha")
        let path = try temp.write("f.txt", "abc")
        let result = try SHA256.hex(ofFileAt: path)
        #expect(result.sha256 == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(result.size == 3)
        #expect(throws: QuillError.self) { try SHA256.hex(ofFileAt: temp.file("missing")) }
    }
}
