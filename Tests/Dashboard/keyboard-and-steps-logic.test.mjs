// The runs table's keyboard movement and the steps page's graph from a listing.
// Run with `node --test Tests/Dashboard`.
import { test } from "node:test";
import assert from "node:assert/strict";

import { moveActive } from "../../Sources/QuillServer/Resources/Dashboard/js/components/row-keys.js";
import { graphFromListing } from "../../Sources/QuillServer/Resources/Dashboard/js/steps-model.js";

test("arrow keys, pages, Home and End move the active row within the rows", () => {
    assert.equal(moveActive("ArrowDown", null, 10, 5), 0, "the first movement starts at the first row");
    assert.equal(moveActive("ArrowDown", 3, 10, 5), 4);
    assert.equal(moveActive("ArrowUp", 3, 10, 5), 2);
    assert.equal(moveActive("ArrowUp", 0, 10, 5), 0, "stays at the top");
    assert.equal(moveActive("ArrowDown", 9, 10, 5), 9, "stays at the bottom");
    assert.equal(moveActive("PageDown", 3, 10, 5), 8);
    assert.equal(moveActive("PageDown", 8, 10, 5), 9);
    assert.equal(moveActive("PageUp", 3, 10, 5), 0);
    assert.equal(moveActive("Home", 7, 10, 5), 0);
    assert.equal(moveActive("End", 2, 10, 5), 9);
    assert.equal(moveActive("x", 2, 10, 5), null, "other keys do not move");
    assert.equal(moveActive("Enter", 2, 10, 5), null);
    assert.equal(moveActive("ArrowDown", null, 0, 5), null, "no rows, no movement");
    assert.equal(moveActive("PageDown", 0, 10, 0), 1, "a page is at least one row");
});

test("a listing's graph is the graph endpoint's: nodes in order, edges to listed dependencies only", () => {
    const steps = [
        { namespace: "Ex.Dataset", hash: "aaa", type: "Dataset", status: "success", dependencies: [] },
        { namespace: "Ex.Train", hash: "bbb", type: "TrainModel", status: "failed", dependencies: ["Ex.Dataset/aaa", "Gone/zzz"] },
        { namespace: "Ex.Train", hash: "ccc", type: "TrainModel", status: "success", dependencies: ["Ex.Dataset/aaa"] },
    ];
    assert.deepEqual(graphFromListing(steps), {
        nodes: [
            { id: "Ex.Dataset/aaa", namespace: "Ex.Dataset", hash: "aaa", type: "Dataset", status: "success" },
            { id: "Ex.Train/bbb", namespace: "Ex.Train", hash: "bbb", type: "TrainModel", status: "failed" },
            { id: "Ex.Train/ccc", namespace: "Ex.Train", hash: "ccc", type: "TrainModel", status: "success" },
        ],
        edges: [{ from: "Ex.Train/bbb", to: "Ex.Dataset/aaa" }, { from: "Ex.Train/ccc", to: "Ex.Dataset/aaa" }],
    });
    assert.deepEqual(graphFromListing([]), { nodes: [], edges: [] });
});
