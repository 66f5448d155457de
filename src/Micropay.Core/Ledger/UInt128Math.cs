using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Micropay.Core.Ledger;

/// <summary>
/// Overflow-aware 128-bit arithmetic for the ledger's hot path. <see cref="UInt128"/>'s own checked operators
/// and comparisons are not inlined by the JIT (each is a call passing both operands through the stack), which
/// cost the apply loop more than its cache misses; these work on the two 64-bit halves in registers.
/// </summary>
/// <remarks>
/// The halves are taken with <see cref="Unsafe.BitCast{TFrom, TTo}"/> rather than through a reference to the
/// struct: taking a struct's address forces it onto the stack, and <see cref="UInt128"/>'s shift operator (the
/// other way to reach the upper half) is not inlined. Little-endian layout, the only one .NET runs on today.
/// </remarks>
internal static class UInt128Math
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong Lo(UInt128 value) => Unsafe.BitCast<UInt128, Halves>(value).Lo;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong Hi(UInt128 value) => Unsafe.BitCast<UInt128, Halves>(value).Hi;

    /// <summary><paramref name="a"/> + <paramref name="b"/>; false (and <paramref name="sum"/> undefined) when it would overflow.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool TryAdd(UInt128 a, UInt128 b, out UInt128 sum)
    {
        bool ok = TryAdd(Lo(a), Hi(a), Lo(b), Hi(b), out ulong lo, out ulong hi);
        sum = new UInt128(hi, lo);
        return ok;
    }

    /// <summary><paramref name="a"/> + <paramref name="b"/>, which the caller has proven cannot overflow.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static UInt128 Add(UInt128 a, UInt128 b)
    {
        // Never taken while the ledger's invariants hold; kept in release builds so a broken proof fails loudly
        // instead of wrapping a balance.
        if (!TryAdd(a, b, out UInt128 sum))
        {
            ThrowHelper.ThrowInvalidOperationException_InvariantBroken("a balance sum overflowed");
        }

        return sum;
    }

    /// <summary><paramref name="a"/> - <paramref name="b"/>, which the caller has proven cannot underflow (b &lt;= a).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static UInt128 Subtract(UInt128 a, UInt128 b)
    {
        if (LessThan(a, b))
        {
            ThrowHelper.ThrowInvalidOperationException_InvariantBroken("a balance went below zero");
        }

        unchecked
        {
            ulong aLo = Lo(a);
            ulong lo = aLo - Lo(b);
            ulong borrow = lo > aLo ? 1UL : 0UL;
            return new UInt128(Hi(a) - Hi(b) - borrow, lo);
        }
    }

    /// <summary>max(<paramref name="a"/> - <paramref name="b"/>, 0).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static UInt128 SaturatingSubtract(UInt128 a, UInt128 b) => LessThan(b, a) ? Subtract(a, b) : UInt128.Zero;

    /// <summary>(aLo, aHi) + (bLo, bHi) on 64-bit halves; false when the 128-bit sum would overflow.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool TryAdd(ulong aLo, ulong aHi, ulong bLo, ulong bHi, out ulong lo, out ulong hi)
    {
        unchecked
        {
            lo = aLo + bLo;
            ulong carry = lo < aLo ? 1UL : 0UL;
            ulong hiPartial = aHi + bHi;
            hi = hiPartial + carry;
            return hiPartial >= aHi && hi >= hiPartial;
        }
    }

    /// <summary>A sum on 64-bit halves that the caller has proven representable (checked even in release builds).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void AddProven(ulong aLo, ulong aHi, ulong bLo, ulong bHi, out ulong lo, out ulong hi)
    {
        if (!TryAdd(aLo, aHi, bLo, bHi, out lo, out hi))
        {
            ThrowHelper.ThrowInvalidOperationException_InvariantBroken("a balance sum overflowed");
        }
    }

    /// <summary>(aLo, aHi) &lt; (bLo, bHi) as 128-bit numbers.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool LessThan(ulong aLo, ulong aHi, ulong bLo, ulong bHi) => aHi < bHi || (aHi == bHi && aLo < bLo);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool LessThan(UInt128 a, UInt128 b)
    {
        ulong aHi = Hi(a);
        ulong bHi = Hi(b);
        return aHi < bHi || (aHi == bHi && Lo(a) < Lo(b));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static UInt128 Min(UInt128 a, UInt128 b) => LessThan(b, a) ? b : a;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool IsZero(UInt128 value) => (Lo(value) | Hi(value)) == 0;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool IsMax(UInt128 value) => (Lo(value) & Hi(value)) == ulong.MaxValue;

    /// <summary>Whether the value lies in <see cref="ReservedIds"/>' range (which holds <see cref="UInt128.MaxValue"/>): one compare.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool IsReservedId(UInt128 value) => Hi(value) >= 0xFFFF_FFFF_0000_0000UL;

    [StructLayout(LayoutKind.Sequential)]
    private readonly struct Halves
    {
        public readonly ulong Lo;
        public readonly ulong Hi;
    }
}
