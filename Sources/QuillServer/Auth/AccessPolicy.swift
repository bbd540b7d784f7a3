import QuillStore

/// Who may read, write and manage which project: the server's one set of access rules, as plain values.
///
/// - Single-user mode: everything.
/// - An administrator: everything.
/// - Anonymous: reading public projects.
/// - A user: public projects are readable by everyone; internal ones by the namespace's members (the user
///   of a personal namespace, the members of an organization); private ones by the namespace's owner (the
///   user of a personal namespace; an organization's owners and the member who created the project).
///   Whoever may read a project of a namespace they belong to may write it; managing a project (changing
///   its visibility) needs the owner's rights.
enum AccessPolicy {
    /// Whether the caller may read or write a project.
    static func allows(_ caller: Caller, _ access: Access, _ project: StoredProject) -> Bool {
        switch caller {
        case .singleUser: return true
        case .anonymous: return access == .read && project.visibility == .public
        case .user(let user):
            if user.isAdmin { return true }
            let member = isMember(user, of: project.namespace)
            let owner = ownsProject(user, project)
            switch (project.visibility, access) {
            case (.public, .read): return true
            case (.public, .write), (.internal, _): return member
            case (.private, _): return owner
            }
        }
    }

    /// Whether the caller may change a project's settings (its visibility).
    static func mayManage(_ caller: Caller, _ project: StoredProject) -> Bool {
        switch caller {
        case .singleUser: return true
        case .anonymous: return false
        case .user(let user): return user.isAdmin || ownsProject(user, project)
        }
    }

    /// Whether the caller may create projects in a namespace.
    static func mayCreateProject(_ caller: Caller, in namespace: String) -> Bool {
        switch caller {
        case .singleUser: return true
        case .anonymous: return false
        case .user(let user): return user.isAdmin || isMember(user, of: namespace)
        }
    }

    /// Whether the user belongs to a namespace: it is the user's own, or an organization the user is in.
    static func isMember(_ user: AuthenticatedUser, of namespace: String) -> Bool {
        namespace == user.name || user.organizations[namespace] != nil
    }

    private static func ownsProject(_ user: AuthenticatedUser, _ project: StoredProject) -> Bool {
        if project.namespace == user.name { return true }
        switch user.organizations[project.namespace] {
        case .owner: return true
        case .member: return project.createdBy == user.name
        case nil: return false
        }
    }
}
