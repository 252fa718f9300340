using Stripe;

namespace Funnel.Samples.Snippets;

/// <summary>The snippets of docs/money.md.</summary>
internal static class MoneySnippets
{
    public static void Basics()
    {
        // <snippet:money-basics>
        var price = Money.FromMajor(497.00m, Currency.USD);   // 49700 minor units
        var same = new Money(49700, Currency.USD);
        bool equal = price == same;                           // true
        decimal major = price.ToMajor();                      // 497.00m
        // </snippet:money-basics>
    }

    public static void Arithmetic(Money price, IEnumerable<Money> lineItems)
    {
        // <snippet:money-arithmetic>
        var total = price + Money.FromMajor(19.00m, Currency.USD);   // +, -, unary -, * long
        var three = price * 3;                                       // checked
        var eur = Money.FromMajor(10m, Currency.EUR);
        Money mixed = price + eur;   // InvalidOperationException: "Cannot add USD and EUR amounts: currencies must match."
        bool less = price < eur;     // throws too: so do <=, >, >=, CompareTo and Money.Sum
        bool equal = price == eur;   // false: equality never throws
        Money sum = Money.Sum(lineItems, Currency.USD);   // an empty sequence gives Money.Zero(Currency.USD)
        // </snippet:money-arithmetic>
    }

    public static void Allocate()
    {
        // <snippet:money-allocate>
        var installments = Money.FromMajor(497.00m, Currency.USD).Allocate(3);
        // [USD 165.67, USD 165.67, USD 165.66]: three installments that sum to 497.00
        var refunds = Money.FromMajor(-1.00m, Currency.USD).Allocate(3);
        // [USD -0.34, USD -0.33, USD -0.33]
        // </snippet:money-allocate>
    }

    public static void AllocateByRatio()
    {
        // <snippet:money-allocate-ratios>
        var split = Money.FromMajor(100.00m, Currency.USD).Allocate([40, 30, 30]);  // [40.00, 30.00, 30.00]
        var cent = new Money(1, Currency.USD).Allocate([30, 40, 30]);               // [0.00, 0.01, 0.00]
        // </snippet:money-allocate-ratios>
    }

    public static void Rounding()
    {
        // <snippet:money-rounding>
        var price = Money.FromMajor(4.97m, Currency.USD);
        var tenthUp = price.Percentage(10m, MidpointRounding.AwayFromZero);   // USD 0.50 (exact 0.497)
        var tenthDown = price.Percentage(10m, MidpointRounding.ToZero);       // USD 0.49
        var withVat = price.Multiply(1.19m, MidpointRounding.ToEven);         // USD 5.91 (exact 5.9143)
        var quarter = price.Divide(4, MidpointRounding.ToEven);               // USD 1.24 (exact 1.2425)
        var parsed = Money.FromMajor(1.005m, Currency.USD, MidpointRounding.AwayFromZero);   // USD 1.01
        // </snippet:money-rounding>
    }

    public static void Stripe(Money price, PaymentIntent intent)
    {
        // <snippet:money-stripe>
        // To Stripe: amount in minor units, lowercase ISO code.
        var options = new PaymentIntentCreateOptions
        {
            Amount = price.MinorUnits,                              // 49700
            Currency = price.Currency.Code.ToLowerInvariant(),      // "usd"
        };

        // From a webhook: back to Money without any rounding.
        var paid = Money.FromMinorUnits(intent.AmountReceived, Currency.FromCode(intent.Currency));
        // </snippet:money-stripe>
    }
}
