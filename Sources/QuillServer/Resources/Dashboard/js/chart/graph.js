// A dependency graph drawn in layers, left to right: steps with no dependencies in the first column, each
// other step one column right of its deepest dependency, so every edge points from a step back to what
// it was computed from. Within a column, nodes are ordered by the mean position of their neighbours in the
// previous column (a barycentre pass), which removes most crossings in pipeline-shaped graphs.

/**
 * Layered positions for `nodes` ([{ id }]) and `edges` ([{ from, to }], `from` depends on `to`):
 * `{ layers: [[id]], position: Map(id → { layer, order, x, y }), width, height }` with `x`/`y` the node's
 * centre for boxes of `nodeWidth` × `nodeHeight` and the given gaps. Edges to unknown nodes are ignored;
 * a cycle (which a step graph cannot have) is cut where it is found.
 */
export function layeredLayout(nodes, edges, { nodeWidth = 170, nodeHeight = 40, columnGap = 70, rowGap = 16 } = {}) {
    const ids = new Set(nodes.map((n) => n.id));
    const dependencies = new Map(nodes.map((n) => [n.id, []]));
    const dependents = new Map(nodes.map((n) => [n.id, []]));
    for (const edge of edges) {
        if (!ids.has(edge.from) || !ids.has(edge.to) || edge.from === edge.to) continue;
        dependencies.get(edge.from).push(edge.to);
        dependents.get(edge.to).push(edge.from);
    }
    const layerOf = new Map();
    const visiting = new Set();
    const layer = (id) => {
        if (layerOf.has(id)) return layerOf.get(id);
        if (visiting.has(id)) return 0; // a cycle: cut here
        visiting.add(id);
        let value = 0;
        for (const dependency of dependencies.get(id)) value = Math.max(value, layer(dependency) + 1);
        visiting.delete(id);
        layerOf.set(id, value);
        return value;
    };
    for (const node of nodes) layer(node.id);
    const layers = [];
    for (const node of nodes) {
        const l = layerOf.get(node.id);
        while (layers.length <= l) layers.push([]);
        layers[l].push(node.id);
    }
    for (const column of layers) column.sort();
    const order = new Map();
    layers.forEach((column) => column.forEach((id, i) => order.set(id, i)));
    for (let l = 1; l < layers.length; l++) {
        const centre = (id) => {
            const neighbours = dependencies.get(id).filter((d) => layerOf.get(d) < l);
            if (neighbours.length === 0) return order.get(id);
            return neighbours.reduce((sum, d) => sum + order.get(d), 0) / neighbours.length;
        };
        layers[l].sort((a, b) => centre(a) - centre(b) || (a < b ? -1 : a > b ? 1 : 0));
        layers[l].forEach((id, i) => order.set(id, i));
    }
    const tallest = Math.max(0, ...layers.map((c) => c.length));
    const height = tallest * nodeHeight + Math.max(0, tallest - 1) * rowGap;
    const position = new Map();
    layers.forEach((column, l) => {
        const columnHeight = column.length * nodeHeight + Math.max(0, column.length - 1) * rowGap;
        const top = (height - columnHeight) / 2;
        column.forEach((id, i) => {
            position.set(id, {
                layer: l,
                order: i,
                x: l * (nodeWidth + columnGap) + nodeWidth / 2,
                y: top + i * (nodeHeight + rowGap) + nodeHeight / 2,
            });
        });
    });
    const width = layers.length * nodeWidth + Math.max(0, layers.length - 1) * columnGap;
    return { layers, position, width, height, dependencies };
}

/** The number of pairs of edges between the same two columns that cross (for tests of the ordering). */
export function crossings(layout, edges) {
    const spans = edges
        .map((e) => [layout.position.get(e.from), layout.position.get(e.to)])
        .filter(([a, b]) => a && b && Math.abs(a.layer - b.layer) === 1)
        .map(([a, b]) => (a.layer < b.layer ? [a, b] : [b, a]));
    let count = 0;
    for (let i = 0; i < spans.length; i++) {
        for (let j = i + 1; j < spans.length; j++) {
            const [a1, b1] = spans[i];
            const [a2, b2] = spans[j];
            if (a1.layer !== a2.layer) continue;
            if ((a1.order - a2.order) * (b1.order - b2.order) < 0) count++;
        }
    }
    return count;
}
