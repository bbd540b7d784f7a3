// The cached-steps page's pure logic, for `node --test`.

/**
 * The dependency graph of a step listing, as `GET /api/v1/steps/graph` gives it for the same results:
 * one node per result (in listing order) and an edge from each result to every dependency that is itself
 * listed. The page draws the graph from the listing when the listing holds every result (no filter), so
 * the server scans its steps root once per page instead of twice.
 */
export function graphFromListing(steps) {
    const id = (s) => `${s.namespace}/${s.hash}`;
    const known = new Set(steps.map(id));
    return {
        nodes: steps.map((s) => ({ id: id(s), namespace: s.namespace, hash: s.hash, type: s.type, status: s.status })),
        edges: steps.flatMap((s) => (s.dependencies ?? []).filter((d) => known.has(d)).map((d) => ({ from: id(s), to: d }))),
    };
}
