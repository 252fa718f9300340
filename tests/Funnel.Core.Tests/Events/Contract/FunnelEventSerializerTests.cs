using System.Reflection;
using System.Text.Json.Nodes;
using Funnel.Events;
using NodaTime;

namespace Funnel.Tests.Events.Contract;

public class FunnelEventSerializerTests
{
    private static readonly FunnelEventSerializer Serializer = EventSamples.Serializer;

    private static OrderPlaced Order(Instant at) => new()
    {
        Id = new EventId(Guid.Parse("0193f5a0-0000-7000-8000-000000000099")),
        OccurredAt = at,
        LeadId = LeadId.Parse("0193f5a0-1111-7000-8000-000000000001"),
        Order = OrderId.Parse("0193f5a0-2222-7000-8000-000000000001"),
        Offer = "ebook-masterclass",
        Total = new Money(49700, Currency.USD),
    };

    [Fact]
    public void Serialize_OrderPlaced_WritesTheEnvelopeFirstAndFieldsInCamelCase()
    {
        string json = Serializer.Serialize(Order(Instant.FromUtc(2026, 12, 4, 15, 52)));

        json.ShouldBe(string.Concat(
            """{"type":"order_placed","v":1,"id":"0193f5a0-0000-7000-8000-000000000099","occurredAt":"2026-12-04T15:52:00Z",""",
            """ "leadId":"0193f5a0-1111-7000-8000-000000000001","order":"0193f5a0-2222-7000-8000-000000000001",""".TrimStart(),
            """ "offer":"ebook-masterclass","total":{"amount":49700,"currency":"USD"}}""".TrimStart()));
    }

    [Fact]
    public void Serialize_FractionalInstant_KeepsTheFraction()
    {
        Instant at = Instant.FromUtc(2026, 12, 4, 15, 52) + Duration.FromNanoseconds(123_456_789);

        JsonNode node = JsonNode.Parse(Serializer.Serialize(Order(at)))!;

        ((string)node["occurredAt"]!).ShouldBe("2026-12-04T15:52:00.123456789Z");
        Serializer.Deserialize(node.ToJsonString()).OccurredAt.ShouldBe(at);
    }

    [Theory]
    [MemberData(nameof(EventContractTests.SampleNames), MemberType = typeof(EventContractTests))]
    public void Deserialize_EverySample_ReadsAsTheGeneralPathDoes(string type)
    {
        string json = EventSamples.Read(type);

        FunnelEvent direct = Serializer.Deserialize(json);
        FunnelEvent general = Serializer.ReadThroughDocument(json);

        direct.ShouldNotBeOfType<UnknownEvent>();
        Serializer.Serialize(direct).ShouldBe(Serializer.Serialize(general));
    }

    [Theory]
    [InlineData("""{"type":"opted_in","v":1,"id":"0193f5a0-0000-7000-8000-000000000001","occurredAt":"2026-12-04T15:52:00Z","leadId":"0193f5a0-1111-7000-8000-000000000001","magnet":"a","magnet":"b"}""")]
    [InlineData("""{"type":"opted_in","type":"page_viewed","v":1,"id":"0193f5a0-0000-7000-8000-000000000001","occurredAt":"2026-12-04T15:52:00Z","leadId":"0193f5a0-1111-7000-8000-000000000001","magnet":"a"}""")]
    public void Deserialize_DuplicateField_Throws(string json)
    {
        Should.Throw<FunnelEventFormatException>(() => Serializer.Deserialize(json));
    }

    [Theory]
    [InlineData("""{"type":"opted_in","v":1,"occurredAt":"2026-12-04T15:52:00Z","leadId":"0193f5a0-1111-7000-8000-000000000001","magnet":"a"}""", "id")]
    [InlineData("""{"type":"opted_in","v":1,"id":7,"occurredAt":"2026-12-04T15:52:00Z","leadId":"0193f5a0-1111-7000-8000-000000000001","magnet":"a"}""", "id")]
    [InlineData("""{"type":"opted_in","v":1,"id":"0193f5a0-0000-7000-8000-000000000001","leadId":"0193f5a0-1111-7000-8000-000000000001","magnet":"a"}""", "occurredAt")]
    [InlineData("""{"v":1,"type":"opted_in","id":"0193f5a0-0000-7000-8000-000000000001","occurredAt":"2026-12-04T15:52:00Z","leadId":"0193f5a0-1111-7000-8000-000000000001","magnet":null}""", "magnet")]
    public void Deserialize_BadEnvelopeOrField_ThrowsNamingTheField(string json, string field)
    {
        FunnelEventFormatException error = Should.Throw<FunnelEventFormatException>(() => Serializer.Deserialize(json));

        error.Field.ShouldBe(field);
    }

    [Fact]
    public void Deserialize_MissingOptionalField_TakesItsDefault()
    {
        FunnelEvent e = Serializer.Deserialize(
            """{"type":"email_bounced","v":1,"id":"0193f5a0-0000-7000-8000-000000000001","occurredAt":"2026-12-04T15:52:00Z","leadId":"0193f5a0-1111-7000-8000-000000000001","email":"n-1"}""");

        e.ShouldBeOfType<EmailBounced>().Kind.ShouldBe(BounceKind.Hard);
        e.Attribution.ShouldBe(Attribution.None);
        e.Properties.ShouldBeEmpty();
    }

    [Fact]
    public void Deserialize_NoVersion_ReadsAsVersionOne()
    {
        FunnelEvent e = Serializer.Deserialize(
            """{"type":"opted_in","id":"0193f5a0-0000-7000-8000-000000000001","occurredAt":"2026-12-04T15:52:00Z","leadId":"0193f5a0-1111-7000-8000-000000000001","magnet":"guide"}""");

        e.ShouldBeOfType<OptedIn>().Magnet.ShouldBe("guide");
    }

    [Fact]
    public void Deserialize_UnknownType_ReadsAsUnknownEventKeepingTheJson()
    {
        const string json =
            """{"type":"quiz_completed","v":3,"id":"0193f5a0-0000-7000-8000-000000000007","occurredAt":"2026-12-04T15:52:00.5Z","quiz":"readiness"}""";

        UnknownEvent e = Serializer.Deserialize(json).ShouldBeOfType<UnknownEvent>();

        e.EventType.ShouldBe("quiz_completed");
        e.Type.ShouldBe("quiz_completed");
        e.Version.ShouldBe(3);
        e.Id.ToString().ShouldBe("0193f5a0-0000-7000-8000-000000000007");
        e.OccurredAt.ShouldBe(Instant.FromUtc(2026, 12, 4, 15, 52) + Duration.FromMilliseconds(500));
        e.Json.ShouldBe(json);
        Serializer.Serialize(e).ShouldBe(json);
    }

    [Fact]
    public void Deserialize_NewerVersionOfAKnownType_ReadsAsUnknownEvent()
    {
        JsonObject sample = EventSamples.ReadNode(EventTypes.OrderPlaced);
        sample["v"] = 2;

        Serializer.Deserialize(sample.ToJsonString()).ShouldBeOfType<UnknownEvent>().Version.ShouldBe(2);
    }

    [Theory]
    [InlineData("total")]
    [InlineData("order")]
    [InlineData("leadId")]
    [InlineData("occurredAt")]
    [InlineData("id")]
    public void Deserialize_MissingRequiredField_ThrowsNamingFieldAndType(string field)
    {
        JsonObject sample = EventSamples.ReadNode(EventTypes.OrderPlaced);
        sample.Remove(field);

        var ex = Should.Throw<FunnelEventFormatException>(() => Serializer.Deserialize(sample.ToJsonString()));

        ex.EventType.ShouldBe(EventTypes.OrderPlaced);
        ex.Field.ShouldBe(field);
        ex.Message.ShouldContain($"'{field}'");
        ex.Message.ShouldContain("'order_placed'");
    }

    [Theory]
    [InlineData("total", """{"amount":"49.70","currency":"USD"}""", "total")]
    [InlineData("total", """{"amount":4970}""", "total")]
    [InlineData("total", """{"amount":4970,"currency":"XXY"}""", "total")]
    [InlineData("order", "\"not-a-guid\"", "order")]
    [InlineData("offer", "null", "offer")]
    [InlineData("occurredAt", "\"2026-12-04 15:52\"", "occurredAt")]
    [InlineData("id", "42", "id")]
    [InlineData("attribution", "\"facebook\"", "attribution")]
    public void Deserialize_WrongShape_ThrowsNamingFieldAndType(string field, string value, string expectedField)
    {
        JsonObject sample = EventSamples.ReadNode(EventTypes.OrderPlaced);
        sample[field] = JsonNode.Parse(value);

        var ex = Should.Throw<FunnelEventFormatException>(() => Serializer.Deserialize(sample.ToJsonString()));

        ex.EventType.ShouldBe(EventTypes.OrderPlaced);
        ex.Field.ShouldNotBeNull().ShouldStartWith(expectedField);
    }

    [Fact]
    public void Deserialize_EnumAsNumber_Throws()
    {
        JsonObject sample = EventSamples.ReadNode(EventTypes.EmailBounced);
        sample["kind"] = 1;

        Should.Throw<FunnelEventFormatException>(() => Serializer.Deserialize(sample.ToJsonString())).Field.ShouldBe("kind");
    }

    [Fact]
    public void Deserialize_RatingOutOfRange_ThrowsNamingTheField()
    {
        JsonObject sample = EventSamples.ReadNode(EventTypes.ReviewSubmitted);
        sample["rating"] = 9;

        var ex = Should.Throw<FunnelEventFormatException>(() => Serializer.Deserialize(sample.ToJsonString()));

        ex.Field.ShouldBe("rating");
        ex.EventType.ShouldBe(EventTypes.ReviewSubmitted);
    }

    [Theory]
    [InlineData("not json")]
    [InlineData("[1,2]")]
    [InlineData("{\"v\":1}")]
    [InlineData("{\"type\":\"\"}")]
    [InlineData("{\"type\":7}")]
    public void Deserialize_NotAnEvent_ThrowsFormatException(string json)
    {
        Should.Throw<FunnelEventFormatException>(() => Serializer.Deserialize(json));
    }

    [Fact]
    public void Deserialize_BadVersion_ThrowsNamingV()
    {
        JsonObject sample = EventSamples.ReadNode(EventTypes.OptedIn);
        sample["v"] = "one";

        Should.Throw<FunnelEventFormatException>(() => Serializer.Deserialize(sample.ToJsonString())).Field.ShouldBe("v");
    }

    [Fact]
    public void Deserialize_InvalidUtf8_ThrowsFormatException()
    {
        Should.Throw<FunnelEventFormatException>(() => Serializer.Deserialize([0x7B, 0xFF, 0x7D]));
    }

    [Fact]
    public void Deserialize_Utf8WithByteOrderMark_Reads()
    {
        byte[] json = [0xEF, 0xBB, 0xBF, .. System.Text.Encoding.UTF8.GetBytes(EventSamples.Read(EventTypes.OptedIn))];

        Serializer.Deserialize(json).ShouldBeOfType<OptedIn>().Magnet.ShouldBe("quick-start-guide");
    }

    [Fact]
    public void Serialize_UnregisteredType_Throws()
    {
        var serializer = new FunnelEventSerializer(new FunnelEventTypesBuilder().Add(typeof(OptedIn)).Build());

        Should.Throw<ArgumentException>(() => serializer.Serialize(Order(Instant.FromUtc(2026, 1, 1, 0, 0))))
            .Message.ShouldContain(nameof(OrderPlaced));
    }

    [Fact]
    public void Deserialize_TypeNotInThisRegistry_ReadsAsUnknownEvent()
    {
        var serializer = new FunnelEventSerializer(new FunnelEventTypesBuilder().Add(typeof(OptedIn)).Build());

        serializer.Deserialize(EventSamples.Read(EventTypes.OrderPlaced)).ShouldBeOfType<UnknownEvent>();
    }

    [FunnelEventType("quiz_completed", Version = 2)]
    public sealed record QuizCompleted : LeadEvent
    {
        public required string Quiz { get; init; }

        public int Score { get; init; }

        public override string EventType => "quiz_completed";
    }

    [FunnelEventType("quiz_completed")]
    public sealed record OtherQuizCompleted : LeadEvent
    {
        public override string EventType => "quiz_completed";
    }

    [FunnelEventType("quiz_started")]
    public sealed record MislabelledQuiz : LeadEvent
    {
        public override string EventType => "quiz_begun";
    }

    public sealed record UndeclaredQuiz : LeadEvent
    {
        public override string EventType => "quiz_undeclared";
    }

    [FunnelEventType("quiz_typed")]
    public sealed record TypedQuiz : LeadEvent
    {
        public string? Type { get; init; }

        public override string EventType => "quiz_typed";
    }

    [Fact]
    public void Deserialize_OlderVersionWithUpcaster_UpcastsThenReads()
    {
        FunnelEventTypes types = new FunnelEventTypesBuilder()
            .Add(typeof(QuizCompleted))
            .AddUpcaster("quiz_completed", 1, json =>
            {
                json["quiz"] = json["quizKey"]!.DeepClone();
                json.Remove("quizKey");
                return json;
            })
            .Build();
        var serializer = new FunnelEventSerializer(types);

        FunnelEvent e = serializer.Deserialize(
            """{"type":"quiz_completed","v":1,"id":"0193f5a0-0000-7000-8000-000000000001","occurredAt":"2026-12-04T15:52:00Z","leadId":"0193f5a0-1111-7000-8000-000000000001","quizKey":"readiness","score":7}""");

        QuizCompleted quiz = e.ShouldBeOfType<QuizCompleted>();
        quiz.Quiz.ShouldBe("readiness");
        quiz.Score.ShouldBe(7);
        JsonNode.Parse(serializer.Serialize(quiz))!["v"]!.GetValue<int>().ShouldBe(2);
    }

    [Fact]
    public void Deserialize_OlderVersionWithoutUpcaster_ThrowsNamingTheVersion()
    {
        var serializer = new FunnelEventSerializer(new FunnelEventTypesBuilder().Add(typeof(QuizCompleted)).Build());

        var ex = Should.Throw<FunnelEventFormatException>(() => serializer.Deserialize(
            """{"type":"quiz_completed","v":1,"id":"0193f5a0-0000-7000-8000-000000000001","occurredAt":"2026-12-04T15:52:00Z","leadId":"0193f5a0-1111-7000-8000-000000000001","quiz":"r"}"""));

        ex.Field.ShouldBe("v");
        ex.Message.ShouldContain("no upcaster from version 1");
    }

    [Fact]
    public void Add_TwoTypesWithOneName_ThrowsNamingBoth()
    {
        var builder = new FunnelEventTypesBuilder().Add(typeof(QuizCompleted));

        var ex = Should.Throw<ArgumentException>(() => builder.Add(typeof(OtherQuizCompleted)));

        ex.Message.ShouldContain("'quiz_completed'");
        ex.Message.ShouldContain(typeof(QuizCompleted).FullName!);
        ex.Message.ShouldContain(typeof(OtherQuizCompleted).FullName!);
    }

    [Fact]
    public void Add_SameTypeTwice_RegistersItOnce()
    {
        FunnelEventTypes types = new FunnelEventTypesBuilder()
            .AddAssembly(typeof(FunnelEvent).Assembly)
            .AddAssembly(typeof(FunnelEvent).Assembly)
            .Add(typeof(OptedIn))
            .Build();

        types.All.Count(t => t.Type == typeof(OptedIn)).ShouldBe(1);
    }

    [Fact]
    public void Add_NameDifferentFromEventType_Throws()
    {
        Should.Throw<ArgumentException>(() => new FunnelEventTypesBuilder().Add(typeof(MislabelledQuiz)))
            .Message.ShouldContain("quiz_begun");
    }

    [Fact]
    public void Add_NoAttribute_ThrowsNamingTheType()
    {
        Should.Throw<ArgumentException>(() => new FunnelEventTypesBuilder().Add(typeof(UndeclaredQuiz)))
            .Message.ShouldContain(typeof(UndeclaredQuiz).FullName!);
    }

    [Theory]
    [InlineData(typeof(FunnelEvent))]
    [InlineData(typeof(UnknownEvent))]
    [InlineData(typeof(string))]
    public void Add_NotAConcreteEvent_Throws(Type type)
    {
        Should.Throw<ArgumentException>(() => new FunnelEventTypesBuilder().Add(type));
    }

    [Fact]
    public void Build_UpcasterForUnknownType_Throws()
    {
        var builder = new FunnelEventTypesBuilder().Add(typeof(OptedIn)).AddUpcaster("quiz_completed", 1, j => j);

        Should.Throw<InvalidOperationException>(builder.Build).Message.ShouldContain("quiz_completed");
    }

    [Fact]
    public void Constructor_FieldNamedLikeTheEnvelope_Throws()
    {
        FunnelEventTypes types = new FunnelEventTypesBuilder().Add(typeof(TypedQuiz)).Build();

        Should.Throw<InvalidOperationException>(() => new FunnelEventSerializer(types)).Message.ShouldContain("'type'");
    }

    [Fact]
    public void FromAssemblies_AssemblyWithBadlyDeclaredEvents_Throws()
    {
        Should.Throw<ArgumentException>(() => FunnelEventTypes.FromAssemblies(Assembly.GetExecutingAssembly()));
    }
}
