/// The version of the C ABI in this library; the Python package refuses a library whose version it does not
/// know.
@_cdecl("quill_abi_version")
public func quillABIVersion() -> Int32 { 1 }
