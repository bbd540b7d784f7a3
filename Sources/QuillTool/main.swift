import QuillCLI
