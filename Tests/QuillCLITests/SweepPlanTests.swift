import Testing

@testable import QuillCLI

@Suite("SweepPlan: grids, placeholders and seeded draws")
struct SweepPlanTests {
    @Test("a seed draws the same combinations on every machine (SplitMix64 with Lemire's reduction, pinned)")
    func pinnedDraws() {
        #expect(SweepPlan.draw(5, from: 12, seed: 42) == [8, 1, 3, 4, 0])
        #expect(
            SweepPlan.draw(3, from: 1 << 62, seed: 7) == [
                1_797_772_400_223_093_621, 77_422_343_148_738_951, 4_154_025_436_703_902_336,
            ]
        )
        #expect(Set(SweepPlan.draw(12, from: 12, seed: 0)) == Set(0..<12))
    }

    @Test("the grid is walked with the last key fastest, and placeholders fill each argument")
    func points() throws {
        let plan = try SweepPlan(grid: ["a=1,2", "b=x,y,z"], command: ["run", "--a={a}", "{b}{b}", "{{a}}"])
        #expect(plan.combinations == 6)
        let points = try plan.points(random: nil, seed: 0)
        #expect(
            points.map(\.argv) == [
                ["run", "--a=1", "xx", "{a}"], ["run", "--a=1", "yy", "{a}"], ["run", "--a=1", "zz", "{a}"],
                ["run", "--a=2", "xx", "{a}"], ["run", "--a=2", "yy", "{a}"], ["run", "--a=2", "zz", "{a}"],
            ]
        )
        #expect(points[4].values.map(\.text) == ["2", "y"])
        #expect(try plan.points(random: 6, seed: 3).count == 6)
    }

    @Test("a grid too large to enumerate is refused without --random, and drawn from with it")
    func largeGrid() throws {
        let values = (0..<100).map(String.init).joined(separator: ",")
        let keys = ["a", "b", "c", "d", "e", "f", "g", "h", "i", "j"]
        // 100^10 = 1e20 combinations: more than an Int holds.
        #expect(throws: (any Error).self) {
            try SweepPlan(grid: keys.map { "\($0)=\(values)" }, command: keys.map { "{\($0)}" })
        }
        let plan = try SweepPlan(grid: keys.prefix(3).map { "\($0)=\(values)" }, command: ["{a}", "{b}", "{c}"])
        #expect(plan.combinations == 1_000_000)
        #expect(throws: (any Error).self) { try plan.points(random: nil, seed: 0) }
        #expect(throws: (any Error).self) { try plan.points(random: 10_001, seed: 0) }
        let drawn = try plan.points(random: 10_000, seed: 1)
        #expect(Set(drawn.map(\.argv)).count == 10_000)
    }
}
