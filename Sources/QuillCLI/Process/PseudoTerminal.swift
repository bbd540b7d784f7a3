import Foundation
import QuillCore

/// A pseudo-terminal pair used as a child's standard output (and error) when quill's own are a terminal, so
/// the command still sees a terminal (colors, line buffering, its width) while quill copies what it writes
/// to the real terminal and to `output.log`.
///
/// The pseudo-terminal is not the child's controlling terminal: input, Ctrl-C and Ctrl-Z stay with the real
/// terminal, whose foreground the child gets.
struct PseudoTerminal {
    /// The side quill reads.
    let primary: Int32
    /// The side the child writes to.
    let secondary: Int32

    /// Opens a pair that mirrors the settings and window size of the terminal `like`; `nil` when the system
    /// has no pseudo-terminals.
    static func open(like terminal: Int32) -> PseudoTerminal? {
        guard let openPTY = PlatformSymbols.openPTY, let unlockPTY = PlatformSymbols.unlockPTY,
            let nameOfPTY = PlatformSymbols.nameOfPTY
        else { return nil }
        let primary = openPTY(O_RDWR | O_NOCTTY | O_CLOEXEC)
        guard primary >= 0 else { return nil }
        var name = [CChar](repeating: 0, count: 128)
        guard unlockPTY(primary) == 0, nameOfPTY(primary, &name, name.count) == 0 else {
            close(primary)
            return nil
        }
        let secondary = Platform.open(
            String(decoding: name.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self),
            O_RDWR | O_NOCTTY | O_CLOEXEC
        )
        guard secondary >= 0 else {
            close(primary)
            return nil
        }
        var settings = termios()
        if tcgetattr(terminal, &settings) == 0 {
            // Lines reach quill as written ("\n", not "\r\n"): output.log stays plain text, and the real
            // terminal adds its own carriage returns.
            settings.c_oflag &= ~tcflag_t(OPOST)
            tcsetattr(secondary, TCSANOW, &settings)
        }
        let pair = PseudoTerminal(primary: primary, secondary: secondary)
        pair.copyWindowSize(from: terminal)
        return pair
    }

    /// Gives the pseudo-terminal the window size of `terminal` when it differs; returns whether it did.
    @discardableResult
    func copyWindowSize(from terminal: Int32) -> Bool {
        var wanted = winsize()
        var current = winsize()
        guard ioctl(terminal, UInt(TIOCGWINSZ), &wanted) == 0 else { return false }
        if ioctl(primary, UInt(TIOCGWINSZ), &current) == 0, current.ws_row == wanted.ws_row,
            current.ws_col == wanted.ws_col
        {
            return false
        }
        return ioctl(primary, UInt(TIOCSWINSZ), &wanted) == 0
    }
}
