using FsCheck;
using FsCheck.Xunit;
using Funnel.Storage.PostgreSql.Analytics;

namespace Funnel.Storage.PostgreSql.Tests.Analytics;

/// <summary>The segment format on its own: what is encoded decodes unchanged, and damaged data is refused, never misread.</summary>
public sealed class AnalyticsSegmentFormatTests
{
    [Property(MaxTest = 200)]
    public void Decode_AnyEncodedSegment_GivesItBack(Guid[] leads, long[] ticks, byte[] subjects, NonNegativeInt dictionary)
    {
        int n = Math.Min(leads.Length, ticks.Length);
        int size = 1 + (dictionary.Get % 400);
        var segment = new AnalyticsSegment(n);
        for (int i = 0; i < n; i++)
        {
            string? subject = i < subjects.Length && subjects[i] % 5 != 0 ? "s-ü-" + (subjects[i] * 7 % size) : null;
            segment.Add(leads[i], ticks[i], subject, i % 3 == 0 ? null : "facebook", i % 2 == 0 ? "launch" : null,
                i % 4 == 1 ? Money.FromMinorUnits(ticks[i] % 100_000, Currency.EUR) : null, i % 5 == 2 ? "b" : null, i % 6 == 3 ? leads[n - 1 - i] : Guid.Empty);
        }

        AnalyticsSegment back = AnalyticsSegment.Decode(segment.Encode(), []);

        back.Leads.ShouldBe(segment.Leads);
        back.Ticks.ShouldBe(segment.Ticks);
        back.Subjects.ShouldBe(segment.Subjects);
        back.Channels.ShouldBe(segment.Channels);
        back.Campaigns.ShouldBe(segment.Campaigns);
        back.Variants.ShouldBe(segment.Variants);
        back.Currencies.ShouldBe(segment.Currencies);
        back.Amounts.ShouldBe(segment.Amounts);
        back.Visitors.ShouldBe(segment.Visitors);
    }

    [Fact]
    public void Decode_ManyDistinctValues_UsesWiderCodes()
    {
        var segment = new AnalyticsSegment(70_000);
        for (int i = 0; i < 70_000; i++)
        {
            segment.Add(Guid.NewGuid(), i, "subject-" + i, "channel-" + (i % 300), null);
        }

        AnalyticsSegment back = AnalyticsSegment.Decode(segment.Encode(), []);

        back.Subjects.ShouldBe(segment.Subjects);
        back.Channels.ShouldBe(segment.Channels);
    }

    [Fact]
    public void Decode_EqualStrings_ComeBackAsOneInstance()
    {
        var segment = new AnalyticsSegment(2);
        segment.Add(Guid.NewGuid(), 1, "quick-start-guide", null, null);
        var strings = new Dictionary<string, string>();

        AnalyticsSegment first = AnalyticsSegment.Decode(segment.Encode(), strings);
        AnalyticsSegment second = AnalyticsSegment.Decode(segment.Encode(), strings);

        ReferenceEquals(first.Subjects[0], second.Subjects[0]).ShouldBeTrue();
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(20)]
    [InlineData(60)]
    public void Decode_CutShort_ThrowsFormatException(int keep)
    {
        var segment = new AnalyticsSegment(2);
        segment.Add(Guid.NewGuid(), 1, "a", "b", "c");
        segment.Add(Guid.NewGuid(), 2, null, "b", null);
        byte[] data = segment.Encode();

        Should.Throw<FormatException>(() => AnalyticsSegment.Decode(data.AsSpan(0, Math.Min(keep, data.Length - 1)), []));
    }

    [Fact]
    public void Decode_OtherVersionOrTrailingBytes_ThrowsFormatExceptionSayingWhat()
    {
        var segment = new AnalyticsSegment(1);
        segment.Add(Guid.NewGuid(), 1, null, null, null);
        byte[] data = segment.Encode();

        byte[] newer = [.. data];
        newer[0] = 2;
        Should.Throw<FormatException>(() => AnalyticsSegment.Decode(newer, [])).Message.ShouldContain("format version 2");
        Should.Throw<FormatException>(() => AnalyticsSegment.Decode([.. data, 0], [])).Message.ShouldContain("after its last column");
    }
}
