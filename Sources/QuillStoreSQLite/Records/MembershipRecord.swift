import GRDB
import QuillStore

/// A row of `memberships`: a user's role in an organization; unique by (organization, user).
struct MembershipRecord: FetchableRecord, PersistableRecord, Sendable {
    static let databaseTableName = "memberships"

    /// The table's columns.
    enum Columns {
        static let organizationID = Column("organization_id")
        static let userID = Column("user_id")
        static let role = Column("role")
    }

    var organizationID: Int64
    var userID: Int64
    var role: String

    init(organizationID: Int64, userID: Int64, role: MembershipRole) {
        self.organizationID = organizationID
        self.userID = userID
        self.role = role.rawValue
    }

    init(row: Row) {
        organizationID = row[Columns.organizationID]
        userID = row[Columns.userID]
        role = row[Columns.role]
    }

    func encode(to container: inout PersistenceContainer) {
        container[Columns.organizationID] = organizationID
        container[Columns.userID] = userID
        container[Columns.role] = role
    }

    /// A membership with the names of its organization and user, as ``named`` selects it.
    struct Named: FetchableRecord, Sendable {
        /// The selected columns.
        enum Columns {
            static let organization = Column("organization")
            static let user = Column("user")
            static let role = Column("role")
        }

        /// The membership, as the store's protocols give it.
        var membership: Membership

        init(row: Row) {
            membership = Membership(
                organization: row[Columns.organization],
                user: row[Columns.user],
                role: MembershipRole(rawValue: row[Columns.role]) ?? .member
            )
        }
    }

    /// Selects ``Named`` rows; append a `WHERE` clause.
    static let named = """
        SELECT o.name AS organization, u.name AS user, m.role AS role FROM memberships m
        JOIN organizations o ON o.id = m.organization_id JOIN users u ON u.id = m.user_id
        """
}
