import Foundation
import QuillCore
import Testing

@Suite("Metric downsampling")
struct MetricDownsamplingTests {
    func curve(_ values: [Double]) -> [MetricPoint] {
        values.enumerated().map {
            MetricPoint(index: $0.offset, step: $0.offset, timestamp: Date(timeIntervalSince1970: 0), value: $0.element)
        }
    }

    @Test("a short curve is returned as it is")
    func short() {
        let points = curve([1, 2, 3])
        #expect(MetricDownsampling.minMax(points, maxPoints: 10) == points)
    }

    @Test("1,000,000 points become at most 2,000 and every spike survives, in order, with both ends")
    func spikes() {
        var values = (0..<1_000_000).map { sin(Double($0) / 1000) }
        values[123_457] = 50
        values[654_321] = -50
        values[999_998] = 7
        let points = curve(values)
        let shown = MetricDownsampling.minMax(points, maxPoints: 2000)
        #expect(shown.count <= 2000)
        #expect(shown.count >= 1900)
        #expect(shown.first?.index == 0)
        #expect(shown.last?.index == 999_999)
        #expect(shown.contains { $0.value == 50 && $0.index == 123_457 })
        #expect(shown.contains { $0.value == -50 && $0.index == 654_321 })
        #expect(shown.contains { $0.value == 7 })
        #expect(shown.map(\.index) == shown.map(\.index).sorted())
        #expect(Set(shown.map(\.index)).count == shown.count)
        // The range of the shown curve is the range of the whole curve.
        #expect(shown.map(\.value).min() == values.min())
        #expect(shown.map(\.value).max() == values.max())
    }

    @Test("NaN values do not hide real extremes, and an all-NaN stretch still shows")
    func nan() {
        var values = [Double](repeating: 1, count: 1000)
        for index in 100..<300 { values[index] = .nan }
        values[50] = 9
        let shown = MetricDownsampling.minMax(curve(values), maxPoints: 20)
        #expect(shown.count <= 20)
        #expect(shown.contains { $0.value == 9 })
        #expect(shown.contains { $0.value.isNaN })
    }
}
