import QuillCLI

await QuillCommand.runAndExit()
