namespace Funnel.Tax;

/// <summary>The exact arithmetic of tax: a rate of an amount, rounded half away from zero, per line or per rate.</summary>
internal static class TaxMath
{
    /// <summary>Rates are whole numbers of ten-thousandths of a percent: 25.5% is 255,000.</summary>
    public const long Scale = 10_000;

    public static long Scaled(decimal percent) => (long)(percent * Scale);

    /// <summary>
    /// The tax in an amount: <c>amount × r / 100</c> when the amount is net, <c>amount × r / (100 + r)</c> when it
    /// includes the tax; rounded half away from zero to the minor unit. The amount is not negative.
    /// </summary>
    public static long TaxOf(long amount, long rateScaled, bool inclusive)
    {
        long denominator = (100 * Scale) + (inclusive ? rateScaled : 0);
        if (amount is >= 0 and <= int.MaxValue && rateScaled is >= 0 and <= int.MaxValue)
        {
            // Both below 2^31, so the product fits in 62 bits: the common case, without 128-bit division.
            // A net amount divides by a constant, which the JIT turns into a multiplication.
            long product = amount * rateScaled;
            long remainder;
            long quotient = inclusive ? Math.DivRem(product, denominator, out remainder) : Math.DivRem(product, 100 * Scale, out remainder);
            return remainder * 2 >= denominator ? quotient + 1 : quotient;
        }

        return DivideRounded((Int128)amount * rateScaled, denominator);
    }

    /// <summary><c>numerator / denominator</c> rounded half away from zero; <paramref name="denominator"/> is positive.</summary>
    public static long DivideRounded(Int128 numerator, Int128 denominator)
    {
        Int128 quotient = numerator / denominator;
        if (Int128.Abs(numerator % denominator) * 2 >= denominator)
        {
            quotient += Int128.Sign(numerator);
        }

        return (long)quotient;
    }

    /// <summary>
    /// The tax of each line. Per line, each is <see cref="TaxOf"/> its amount. Per invoice, the lines of one rate are
    /// taxed together (one rounding per rate) and that tax is spread over them in proportion to their amounts by the
    /// largest remainder, so they add up to it exactly.
    /// </summary>
    public static long[] Taxes(ReadOnlySpan<long> amounts, ReadOnlySpan<long> rates, bool inclusive, TaxRounding rounding, Currency currency)
    {
        var taxes = new long[amounts.Length];
        Taxes(amounts, rates, inclusive, rounding, currency, taxes);
        return taxes;
    }

    /// <summary>Writes the tax of each line into <paramref name="taxes"/>, as <see cref="Taxes(ReadOnlySpan{long}, ReadOnlySpan{long}, bool, TaxRounding, Currency)"/> returns it.</summary>
    public static void Taxes(ReadOnlySpan<long> amounts, ReadOnlySpan<long> rates, bool inclusive, TaxRounding rounding, Currency currency, Span<long> taxes)
    {
        taxes.Clear();
        if (rounding == TaxRounding.PerLine)
        {
            for (int i = 0; i < amounts.Length; i++)
            {
                taxes[i] = TaxOf(amounts[i], rates[i], inclusive);
            }

            return;
        }

        Span<bool> done = amounts.Length <= 64 ? stackalloc bool[amounts.Length] : new bool[amounts.Length];
        Span<int> members = amounts.Length <= 64 ? stackalloc int[amounts.Length] : new int[amounts.Length];
        for (int i = 0; i < amounts.Length; i++)
        {
            if (done[i])
            {
                continue;
            }

            int count = 0;
            long total = 0;
            for (int j = i; j < amounts.Length; j++)
            {
                if (!done[j] && rates[j] == rates[i])
                {
                    done[j] = true;
                    members[count++] = j;
                    total = checked(total + amounts[j]);
                }
            }

            long tax = TaxOf(total, rates[i], inclusive);
            if (tax == 0)
            {
                continue;
            }

            if (count == 1)
            {
                taxes[i] = tax;
                continue;
            }

            if (!TrySplit(tax, total, amounts, members[..count], taxes))
            {
                var ratios = new long[count];
                for (int k = 0; k < count; k++)
                {
                    ratios[k] = amounts[members[k]];
                }

                var shares = new Money(tax, currency).Allocate(ratios);
                for (int k = 0; k < count; k++)
                {
                    taxes[members[k]] = shares[k].MinorUnits;
                }
            }
        }
    }

    /// <summary>
    /// Splits a rate's tax over its lines as <see cref="Money.Allocate(IReadOnlyList{long})"/> does (largest
    /// remainder, earlier lines winning ties), in 64-bit arithmetic and without allocating, when every product
    /// fits: the tax and the lines' total are below 2^31. Returns <see langword="false"/> otherwise, or when the
    /// lines' total is zero, for the general path.
    /// </summary>
    private static bool TrySplit(long tax, long total, ReadOnlySpan<long> amounts, ReadOnlySpan<int> members, Span<long> taxes)
    {
        if (tax < 0 || tax > int.MaxValue || total <= 0 || total > int.MaxValue || members.Length > 64)
        {
            return false;
        }

        Span<long> fractions = stackalloc long[members.Length];
        long allocated = 0;
        for (int k = 0; k < members.Length; k++)
        {
            long share = Math.DivRem(tax * amounts[members[k]], total, out fractions[k]);
            taxes[members[k]] = share;
            allocated += share;
        }

        for (long leftover = tax - allocated; leftover > 0; leftover--)
        {
            int best = 0;
            for (int k = 1; k < members.Length; k++)
            {
                if (fractions[k] > fractions[best])
                {
                    best = k;
                }
            }

            taxes[members[best]]++;
            fractions[best] = -1;
        }

        return true;
    }
}
