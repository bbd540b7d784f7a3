// Keyboard movement through a list of rows (the runs table's virtual rows): which row a key makes
// active. Pure, so `node --test` can check it.

/**
 * The row `key` moves to from `active` among `count` rows, `page` rows to a page; `null` when the key does
 * not move (let it do what it does). With no active row yet, any movement starts at the first row.
 */
export function moveActive(key, active, count, page) {
    if (count === 0) return null;
    const step = { ArrowDown: 1, ArrowUp: -1, PageDown: Math.max(1, page), PageUp: -Math.max(1, page) }[key];
    let next;
    if (key === "Home") next = 0;
    else if (key === "End") next = count - 1;
    else if (step === undefined) return null;
    else next = active === null || active === undefined || active < 0 ? 0 : active + step;
    return Math.min(count - 1, Math.max(0, next));
}
