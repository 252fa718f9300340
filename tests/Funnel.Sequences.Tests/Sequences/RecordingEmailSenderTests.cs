using Funnel.Email;
using Funnel.Sequences;

namespace Funnel.Tests.Sequences;

public class RecordingEmailSenderTests
{
    [Fact]
    public async Task SendAsync_FromTheSequenceEngine_RecordsTheGuideEmail()
    {
        var world = new SequenceWorld();
        var sender = new RecordingEmailSender();
        SequenceEngine engine = world.Engine(sender, [GuideSequences.Nurture]);
        var lead = await world.AddLeadAsync(1);
        await engine.HandleAsync(SequenceWorld.OptIn(lead.Id, SequenceWorld.Start));

        await engine.DispatchDueAsync();

        EmailMessage sent = sender.Sent.ShouldHaveSingleItem();
        sent.Subject.ShouldBe("Your Quick Start Guide to E-Book Creation");
        sent.To.ShouldBe(lead.Email);
    }

    [Fact]
    public async Task SendAsync_CancelledToken_ThrowsAndRecordsNothing()
    {
        var sender = new RecordingEmailSender();
        var world = new SequenceWorld();
        var lead = await world.AddLeadAsync(1);
        var message = new EmailMessage { To = lead.Email, Subject = "s", TextBody = "b", IdempotencyKey = "k" };

        await Should.ThrowAsync<OperationCanceledException>(() => sender.SendAsync(message, new CancellationToken(canceled: true)));

        sender.Sent.ShouldBeEmpty();
    }
}
