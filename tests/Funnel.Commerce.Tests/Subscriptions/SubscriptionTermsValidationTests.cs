using System.Collections.Immutable;
using FluentValidation.Results;
using Funnel.Offers;
using Funnel.Subscriptions;
using NodaTime;

namespace Funnel.Tests.Subscriptions;

public class SubscriptionTermsValidationTests
{
    [Fact]
    public void Validate_MembershipCatalogue_IsValid()
    {
        new CatalogueValidator().Validate(SubscriptionTestKit.Catalogue).Errors.ShouldBeEmpty();
    }

    [Theory]
    [InlineData("plans", "Offers[0].PaymentPlans", "cannot also have payment plans")]
    [InlineData("trial-too-long", "Offers[0].Recurring.TrialDays", "between 0 (no trial) and 365")]
    [InlineData("negative-trial", "Offers[0].Recurring.TrialDays", "between 0 (no trial) and 365")]
    [InlineData("cardless-without-trial", "Offers[0].Recurring.TrialRequiresCard", "has no trial")]
    [InlineData("interval", "Offers[0].Recurring.Interval", "unknown billing interval")]
    [InlineData("free", "Offers[0].Price", "positive price per period")]
    public void Validate_BadRecurringOffer_NamesTheField(string problem, string path, string message)
    {
        Offer offer = SubscriptionTestKit.Catalogue.Offers[0];
        SubscriptionTerms terms = offer.Recurring!;
        offer = problem switch
        {
            "plans" => offer with
            {
                PaymentPlans = [new PaymentPlan { Key = "3-monthly", Installments = 3, InstallmentAmount = SubscriptionTestKit.Usd(10), Interval = Period.FromMonths(1) }],
            },
            "trial-too-long" => offer with { Recurring = terms with { TrialDays = 400 } },
            "negative-trial" => offer with { Recurring = terms with { TrialDays = -1 } },
            "cardless-without-trial" => offer with { Recurring = terms with { TrialDays = 0, TrialRequiresCard = false } },
            "interval" => offer with { Recurring = terms with { Interval = (BillingInterval)7 } },
            _ => offer with { Price = SubscriptionTestKit.Usd(0) },
        };
        Catalogue catalogue = SubscriptionTestKit.Catalogue with { Offers = SubscriptionTestKit.Catalogue.Offers.SetItem(0, offer) };

        ImmutableArray<ValidationFailure> errors = [.. new CatalogueValidator().Validate(catalogue).Errors];

        ValidationFailure error = errors.ShouldHaveSingleItem();
        error.PropertyName.ShouldBe(path);
        error.ErrorMessage.ShouldContain(message);
        error.ErrorMessage.ShouldContain("'membership'");
    }
}
