using System.Globalization;

namespace ShardedLedger;

/// <summary>A half-open range of payment ids, <c>[First, End)</c>; empty by default.</summary>
/// <param name="First">The first id in the range.</param>
/// <param name="End">One past the last.</param>
public readonly record struct PaymentIdRange(UInt128 First, UInt128 End)
{
    /// <summary>Whether <paramref name="id"/> is in the range.</summary>
    /// <param name="id">A payment id.</param>
    /// <returns>True when <c>First &lt;= id &lt; End</c>.</returns>
    public bool Contains(UInt128 id) => id >= First && id < End;

    /// <summary>The configuration form, <c>first-end</c>.</summary>
    /// <returns>The text.</returns>
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{First}-{End}");

    /// <summary>Parses <c>first-end</c>; null or empty is the empty range.</summary>
    /// <param name="text">The text.</param>
    /// <returns>The range.</returns>
    /// <exception cref="InvalidOperationException">The text is malformed.</exception>
    public static PaymentIdRange Parse(string? text)
    {
        if (string.IsNullOrEmpty(text))
        {
            return default;
        }

        int dash = text.IndexOf('-', StringComparison.Ordinal);
        if (dash < 0
            || !UInt128.TryParse(text.AsSpan(0, dash), NumberStyles.None, CultureInfo.InvariantCulture, out UInt128 first)
            || !UInt128.TryParse(text.AsSpan(dash + 1), NumberStyles.None, CultureInfo.InvariantCulture, out UInt128 end))
        {
            throw new InvalidOperationException($"A payment id range is 'first-end' in decimal; got '{text}'.");
        }

        return new PaymentIdRange(first, end);
    }
}
