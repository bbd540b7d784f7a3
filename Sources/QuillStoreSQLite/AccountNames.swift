import GRDB
import QuillStore

/// The schema's rule that users and organizations share one space of names (migration "v9: users and
/// organizations share one space of names").
///
/// `account_names` holds every user's and organization's name, normalized (``AccountName/normalize(_:)``), as
/// its primary key; triggers add a name whenever a user or an organization is inserted, so no write path can
/// forget to, and a taken name fails the insert with `SQLITE_CONSTRAINT_PRIMARYKEY`
/// (``UniqueConstraint/accountName``): a conflict, also when two processes create the same name at once.
/// New names are normalized before they are inserted; the migration normalizes the names already stored, so
/// an older row spelled another way (`Ada`) still takes its normalized name (`ada`).
enum AccountNames {
    static func migrate(_ db: Database) throws {
        try db.execute(
            sql: """
                CREATE TABLE account_names (name TEXT PRIMARY KEY NOT NULL) WITHOUT ROWID;
                CREATE TRIGGER users_take_account_name AFTER INSERT ON users
                BEGIN
                    INSERT INTO account_names (name) VALUES (new.name);
                END;
                CREATE TRIGGER organizations_take_account_name AFTER INSERT ON organizations
                BEGIN
                    INSERT INTO account_names (name) VALUES (new.name);
                END;
                """
        )
        // Names an older version stored, normalized; two that collide once normalized keep one entry.
        let names = try String.fetchAll(db, sql: "SELECT name FROM users UNION ALL SELECT name FROM organizations")
        let insert = try db.makeStatement(sql: "INSERT OR IGNORE INTO account_names (name) VALUES (?)")
        for name in names { try insert.execute(arguments: [AccountName.normalize(name)]) }
    }
}
