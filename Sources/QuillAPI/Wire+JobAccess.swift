/// Which jobs the caller may cancel and retry: `GET /api/v1/jobs/access`, so a page shows those buttons only
/// where the API would accept them.
public struct APIJobAccess: Codable, Sendable, Hashable {
    /// Whether the caller may cancel and retry the jobs of every project (single-user mode, an administrator).
    public var allProjects: Bool
    /// The projects whose jobs the caller may cancel and retry (every project when `all_projects`).
    public var projectIDs: [Int64]

    enum CodingKeys: String, CodingKey, CaseIterable {
        case allProjects = "all_projects"
        case projectIDs = "project_ids"
    }

    /// An answer.
    public init(allProjects: Bool, projectIDs: [Int64]) {
        self.allProjects = allProjects
        self.projectIDs = projectIDs
    }
}
