using FluentValidation;
using Funnel.Offers;
using Funnel.Payments;
using Funnel.Tests.Offers;
using NodaTime;

namespace Funnel.Tests.Payments;

public sealed class PaymentValidationTests
{
    [Fact]
    public void Constructor_NegativeRetryWait_ThrowsNamingTheIndex()
    {
        var kit = new OfferTestKit();
        var policy = new DunningPolicy { RetryAfter = [Duration.FromDays(1), Duration.FromDays(-2)] };

        ValidationException error = Should.Throw<ValidationException>(() =>
            new PaymentService(kit.Service, kit.Prices, new InMemoryPaymentGateway(kit.Clock), policy, kit.Clock));

        error.Message.ShouldContain("RetryAfter[1]");
    }

    [Fact]
    public void Constructor_PauseAfterMoreFailuresThanAttempts_ThrowsNamingTheField()
    {
        var kit = new OfferTestKit();
        var policy = new DunningPolicy { RetryAfter = [Duration.FromDays(1)], FailuresBeforePause = 3 };

        ValidationException error = Should.Throw<ValidationException>(() =>
            new PaymentService(kit.Service, kit.Prices, new InMemoryPaymentGateway(kit.Clock), policy, kit.Clock));

        error.Message.ShouldContain("FailuresBeforePause");
    }

    [Fact]
    public void ForInstallment_SecondInstallmentRetried_DerivesStableKeysFromOrderId()
    {
        var order = new OrderId(Guid.Parse("0192a3b4-c5d6-7e8f-9012-3456789abcde"));

        IdempotencyKeys.ForInstallment(order, 2).ShouldBe("order_0192a3b4c5d67e8f90123456789abcde_inst_2");
        IdempotencyKeys.ForInstallment(order, 2, attempt: 3).ShouldBe("order_0192a3b4c5d67e8f90123456789abcde_inst_2_try_3");
        IdempotencyKeys.ForOrder(order).ShouldBe("order_0192a3b4c5d67e8f90123456789abcde");
        IdempotencyKeys.ForRefund(order, 1).ShouldBe("order_0192a3b4c5d67e8f90123456789abcde_refund_1");
    }

    [Fact]
    public void NextRetryAt_AfterEachFailure_FollowsThePolicyThenStops()
    {
        var policy = new DunningPolicy { RetryAfter = [Duration.FromDays(2), Duration.FromDays(4)] };
        Instant failedAt = OfferTestKit.T0;
        var installment = new Installment { Number = 2, DueAt = failedAt, Amount = OfferTestKit.Usd(180m), Status = InstallmentStatus.Failed, LastFailedAt = failedAt, FailedAttempts = 1 };

        policy.NextRetryAt(installment).ShouldBe(failedAt + Duration.FromDays(2));
        policy.NextRetryAt(installment with { FailedAttempts = 2 }).ShouldBe(failedAt + Duration.FromDays(4));
        policy.NextRetryAt(installment with { FailedAttempts = 3 }).ShouldBeNull();
        policy.NextRetryAt(installment with { Status = InstallmentStatus.Paid }).ShouldBeNull();
    }
}

public sealed class InMemoryPaymentGatewayTests
{
    [Theory]
    [InlineData(InMemoryPaymentGateway.SucceedingCard, PaymentOutcome.Succeeded, null)]
    [InlineData(InMemoryPaymentGateway.DecliningCard, PaymentOutcome.Declined, "card_declined")]
    [InlineData(InMemoryPaymentGateway.InsufficientFundsCard, PaymentOutcome.Declined, "insufficient_funds")]
    [InlineData(InMemoryPaymentGateway.AuthenticationCard, PaymentOutcome.RequiresAction, null)]
    [InlineData("4111111111111112", PaymentOutcome.Declined, "invalid_number")]
    public async Task ChargeAsync_TestCard_GivesStripesOutcome(string card, PaymentOutcome outcome, string? code)
    {
        var gateway = new InMemoryPaymentGateway(new NodaTime.Testing.FakeClock(OfferTestKit.T0));

        PaymentResult result = await gateway.ChargeAsync(Request(card, "k"));

        result.Outcome.ShouldBe(outcome);
        result.DeclineCode.ShouldBe(code);
    }

    [Fact]
    public async Task ChargeAsync_SameKeyTwice_ChargesOnceAndReturnsTheFirstAnswer()
    {
        var gateway = new InMemoryPaymentGateway(new NodaTime.Testing.FakeClock(OfferTestKit.T0));
        ChargeRequest request = Request(InMemoryPaymentGateway.SucceedingCard, "order_1");

        PaymentResult first = await gateway.ChargeAsync(request);
        PaymentResult second = await gateway.ChargeAsync(request);

        second.ShouldBeSameAs(first);
        gateway.Webhooks.Length.ShouldBe(1);
        await Should.ThrowAsync<PaymentGatewayException>(() => gateway.ChargeAsync(request with { Amount = OfferTestKit.Usd(1m) }));
    }

    private static ChargeRequest Request(string card, string key) => new()
    {
        Order = OrderId.New(),
        Lead = OfferTestKit.Lead(1),
        Amount = OfferTestKit.Usd(497m),
        PaymentMethod = card,
        IdempotencyKey = key,
    };
}
