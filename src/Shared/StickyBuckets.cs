using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;

namespace Funnel;

/// <summary>The sticky, weighted bucketing that experiments and email A/B tests share: a lead's bucket is a pure function of a key and the lead.</summary>
/// <remarks>
/// The UTF-8 bytes of <c>key + ":" + leadId</c> (the lead id in the GUID "D" format) are hashed with SHA-256; the first
/// and the second 8 bytes, read big-endian, are two independent 64-bit rolls. A roll picks from weighted items by
/// scaling it onto the total weight (<c>⌊roll × total / 2⁶⁴⌋</c>, integer arithmetic only) and walking the cumulative
/// weights in order, so the result never depends on the platform.
/// </remarks>
internal static class StickyBuckets
{
    /// <summary>Returns the two 64-bit rolls of a key and a lead.</summary>
    public static (ulong First, ulong Second) Rolls(string key, LeadId lead)
    {
        byte[] input = Encoding.UTF8.GetBytes(key + ":" + lead.ToString());
        Span<byte> digest = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(input, digest);
        return (BinaryPrimitives.ReadUInt64BigEndian(digest), BinaryPrimitives.ReadUInt64BigEndian(digest[8..]));
    }

    /// <summary>Returns the item a roll falls on, by the items' positive weights in order; the last item when the list is not empty and the weights are inconsistent.</summary>
    public static T Pick<T>(ulong roll, IReadOnlyList<T> items, Func<T, int> weight)
    {
        ulong total = 0;
        foreach (T item in items)
        {
            total += (ulong)weight(item);
        }

        ulong at = Math.BigMul(roll, total, out _);
        foreach (T item in items)
        {
            if (at < (ulong)weight(item))
            {
                return item;
            }

            at -= (ulong)weight(item);
        }

        return items[^1]; // unreachable with positive weights: at < total.
    }
}
