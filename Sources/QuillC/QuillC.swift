import Foundation
import QuillCore

// The C ABI of Quill (docs: python-abi.md): `@_cdecl` functions over the Swift SDK that the Python package
// loads with ctypes. Every function that can fail returns 0 on success and 1 on failure, and on failure
// writes a malloc'd `{"code","message"}` JSON object to `*error` when `error` is not NULL. Nothing thrown
// crosses the boundary and no input traps: each entry point catches and answers. Every call on a run
// answers `conflict` in a child forked after the run started (RunHandle.swift).

/// The version of the C ABI in this library; the Python package refuses a library whose version it does not
/// know.
///
/// - Returns: 1.
@_cdecl("quill_abi_version")
public func quillABIVersion() -> Int32 { 1 }

/// Frees a string this library returned (`*error`, `*out_json`, `*out_info_json`, `*out_record_json`).
///
/// The caller passes a pointer it received from this library, once; NULL does nothing. The strings are
/// allocated with `malloc`, so this is `free` from the same C library.
///
/// - Parameter pointer: The string to free, or NULL.
@_cdecl("quill_free")
public func quillFree(_ pointer: UnsafeMutableRawPointer?) {
    free(pointer)
}

/// The `char **error` parameter of the C functions: where a failure's malloc'd JSON object goes (NULL: the
/// caller does not want it).
public typealias ErrorOut = UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?

/// A `char **` out-parameter that receives a malloc'd JSON string the caller frees with `quill_free`.
public typealias StringOut = UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?

/// Copies bytes into a new NUL-terminated `malloc` allocation that `quill_free` frees; `nil` when memory
/// runs out.
func mallocString(_ bytes: [UInt8]) -> UnsafeMutablePointer<CChar>? {
    guard let raw = malloc(bytes.count + 1) else { return nil }
    let out = raw.bindMemory(to: CChar.self, capacity: bytes.count + 1)
    bytes.withUnsafeBytes { source in
        if let base = source.baseAddress { memcpy(out, base, bytes.count) }
    }
    out[bytes.count] = 0
    return out
}

/// Writes an error object to `*error` (when the caller gave a place for it) and returns 1.
func fail(_ error: ErrorOut, _ failure: any Error) -> Int32 {
    guard let error else { return 1 }
    let code: String
    let message: String
    if let quill = failure as? QuillError {
        code = quill.code.description
        message = quill.description
    } else {
        code = QuillError.Code.io.description
        message = String(describing: failure)
    }
    // One line: the Python side raises it as an exception message.
    let line = message.split(whereSeparator: \.isNewline).joined(separator: " ")
    let object: JSONValue = ["code": .string(code), "message": .string(line)]
    error.pointee = mallocString(JSONWriter.bytes(object))
    return 1
}

/// Writes an `invalid_argument` error and returns 1.
func failInvalid(_ error: ErrorOut, _ message: String) -> Int32 {
    fail(error, QuillError(.invalidArgument, message))
}

/// Runs a body that may throw and answers as the C functions do: 0, or 1 with `*error` set.
@inline(__always)
func answer(_ error: ErrorOut, _ body: () throws -> Void) -> Int32 {
    do {
        try body()
        return 0
    } catch let failure {
        return fail(error, failure)
    }
}

/// Hands a JSON value to the caller through an out-parameter.
///
/// - Throws: ``QuillError`` with code `io` when memory runs out.
func deliver(_ value: JSONValue, to out: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) throws {
    guard let text = mallocString(JSONWriter.bytes(value)) else {
        throw QuillError(.io, "out of memory while returning a JSON answer")
    }
    out.pointee = text
}

/// Checks that an out-parameter was given.
func required<T>(_ pointer: UnsafeMutablePointer<T>?, _ name: String) throws -> UnsafeMutablePointer<T> {
    guard let pointer else { throw QuillError(.invalidArgument, "\(name) is NULL; pass the address of a variable") }
    return pointer
}

/// A C string as a Swift string.
///
/// - Throws: ``QuillError`` with code `invalid_argument` when it is NULL or not UTF-8.
func string(_ pointer: UnsafePointer<CChar>?, _ name: String) throws -> String {
    guard let pointer else { throw QuillError(.invalidArgument, "\(name) is NULL; pass a UTF-8 string") }
    guard let text = String(validatingCString: pointer) else {
        throw QuillError(.invalidArgument, "\(name) is not valid UTF-8; pass a UTF-8 string")
    }
    return text
}

/// A nullable C string as a Swift string, `nil` for NULL.
///
/// - Throws: ``QuillError`` with code `invalid_argument` when it is not UTF-8.
func optionalString(_ pointer: UnsafePointer<CChar>?, _ name: String) throws -> String? {
    guard pointer != nil else { return nil }
    return try string(pointer, name)
}

/// Parses a C string holding JSON (Quill's reader: NaN and infinities accepted as Python writes them).
///
/// - Throws: ``QuillError`` with code `invalid_argument` when it is NULL, not UTF-8 or not JSON.
func parseJSON(_ pointer: UnsafePointer<CChar>?, _ name: String) throws -> JSONValue {
    let text = try string(pointer, name)
    do {
        return try JSONParser.parse(text)
    } catch {
        throw QuillError(.invalidArgument, "\(name) is not valid JSON (\(error))")
    }
}

/// Parses a C string holding a JSON object.
///
/// - Throws: ``QuillError`` with code `invalid_argument` when it is NULL, not UTF-8, not JSON or not an
///   object.
func parseObject(_ pointer: UnsafePointer<CChar>?, _ name: String) throws -> [String: JSONValue] {
    guard let members = try parseJSON(pointer, name).objectValue else {
        throw QuillError(.invalidArgument, "\(name) must be a JSON object ({...})")
    }
    return members
}
