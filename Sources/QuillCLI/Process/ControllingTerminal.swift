import Foundation
import QuillCore

/// quill's controlling terminal, and the job control a shell does for a foreground command: the command's
/// process group gets the terminal, a stopped command stops quill (so the shell reports the job stopped),
/// and a continued quill hands the terminal back and continues the command.
///
/// quill ignores SIGTTOU while it runs a command, so it can change the terminal's foreground group from the
/// background.
struct ControllingTerminal: Sendable {
    /// A descriptor of `/dev/tty`.
    let descriptor: Int32
    /// Whether quill's process group had the terminal when the command started.
    let wasForeground: Bool
    /// The terminal settings when the command started, restored when a signal ends it.
    let settings: termios?

    /// Opens the controlling terminal; `nil` when the process has none.
    static func open() -> ControllingTerminal? {
        let descriptor = Platform.open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC)
        guard descriptor >= 0 else { return nil }
        var settings = termios()
        let hasSettings = tcgetattr(descriptor, &settings) == 0
        return ControllingTerminal(
            descriptor: descriptor,
            wasForeground: tcgetpgrp(descriptor) == getpgrp(),
            settings: hasSettings ? settings : nil
        )
    }

    /// Whether quill's process group has the terminal now.
    var quillIsForeground: Bool { tcgetpgrp(descriptor) == getpgrp() }

    /// Gives the terminal to a process group.
    func giveForeground(to group: pid_t) {
        _ = tcsetpgrp(descriptor, group)
    }

    /// After the command ended: takes the terminal back from its group, and restores the settings the
    /// command may have left changed when a signal ended it (as shells do).
    func reclaim(from group: pid_t, endedBySignal: Bool) {
        if tcgetpgrp(descriptor) == group { _ = tcsetpgrp(descriptor, getpgrp()) }
        if endedBySignal, var settings { _ = tcsetattr(descriptor, TCSADRAIN, &settings) }
    }

    /// The command's group stopped (`signal`): hand it the terminal when it stopped only for lacking it, else
    /// stop quill as well. The command is continued by ``continued(group:)`` when quill is.
    func commandStopped(group: pid_t, signal: Int32, quillMayStop: Bool) {
        if signal == SIGTTIN || signal == SIGTTOU, quillIsForeground {
            giveForeground(to: group)
            _ = kill(-group, SIGCONT)
            return
        }
        if tcgetpgrp(descriptor) == group { _ = tcsetpgrp(descriptor, getpgrp()) }
        guard quillMayStop else { return }
        var set = sigset_t()
        sigemptyset(&set)
        sigaddset(&set, SIGTSTP)
        pthread_sigmask(SIG_UNBLOCK, &set, nil)
        _ = raise(SIGTSTP)
    }

    /// quill was continued (`fg` or `bg`): the command's group gets the terminal when quill has it, and is
    /// continued.
    func continued(group: pid_t) {
        if quillIsForeground { giveForeground(to: group) }
        _ = kill(-group, SIGCONT)
    }

    /// Closes the descriptor.
    func close() {
        Platform.close(descriptor)
    }
}
