using System.Buffers.Binary;
using System.Diagnostics.CodeAnalysis;

namespace Micropay.Core.Identity;

/// <summary>
/// What a registered key may spend: limits per payment and per rolling window, the payees and ledgers it may pay, when it
/// is valid, how much it may put into one channel, and above which amount a second key must co-sign. Enforced by the
/// ledger's state machine with the ledger's clock, for signed payment orders and for channel opens and top-ups funded
/// under the key. Immutable.
/// </summary>
/// <remarks>
/// <para>Encoding (version 1, 256 bytes, little-endian; part of the key registration's journal record):</para>
/// <code>
/// offset size field
///      0   16 MaxPerPayment      largest single payment (order amount, channel deposit or top-up)
///     16   16 WindowLimit        most the key may spend in any window of WindowLength
///     32   16 StepUpThreshold    payments above it need a co-signature by another key of the account
///     48   16 MaxChannelDeposit  most a channel funded under the key may hold in deposits (open plus top-ups)
///     64    8 WindowLength       nanoseconds of ledger time; 0 = no window limit (WindowLimit must then be MaxValue)
///     72    8 ValidFrom          ledger time from which the key may spend
///     80    8 ValidUntil         ledger time after which it may not; >= ValidFrom
///     88    1 PayeeCount         0..8 allowed payee accounts (0 = any payee)
///     89    1 LedgerCount        0..8 allowed ledgers (0 = any ledger)
///     90    6 Reserved           0
///     96  128 AllowedPayees      8 slots of 16 bytes; the first PayeeCount used, the rest 0
///    224   32 AllowedLedgers     8 slots of 4 bytes; the first LedgerCount used, the rest 0
/// </code>
/// <para>
/// The rolling window is exact: a payment at ledger time <c>t</c> is allowed when it and every payment the key made at a
/// time in <c>(t - WindowLength, t]</c> add up to at most <see cref="WindowLimit"/>. A payment at <c>t0</c> therefore
/// counts until <c>t0 + WindowLength - 1</c> and stops counting at <c>t0 + WindowLength</c>. Money a channel returns to
/// the payer (a refund) does not give allowance back: the window counts what the key committed, not what was spent in
/// the end. A policy update keeps the payments of the key's window as it stood at the update (under the old length): a
/// longer window counts them and every later payment, a shorter one drops those that fall out, and a policy without a
/// window forgets them.
/// </para>
/// <para>
/// Allowed payees and allowed ledgers are separate restrictions: when both are given, a payment must satisfy both. An
/// amount above <see cref="StepUpThreshold"/> needs a co-signature; an amount equal to it does not.
/// </para>
/// </remarks>
public sealed class SpendingPolicy : IEquatable<SpendingPolicy>
{
    /// <summary>The size of the encoding in bytes: 256.</summary>
    public const int EncodedSize = 256;

    /// <summary>The most allowed payees (and, separately, allowed ledgers) a policy lists: 8.</summary>
    public const int MaxListLength = 8;

    private readonly UInt128[] _allowedPayees = [];
    private readonly uint[] _allowedLedgers = [];

    /// <summary>A policy that allows everything: no limits, any payee and ledger, valid forever, no step-up.</summary>
    public static SpendingPolicy Unlimited { get; } = new();

    /// <summary>The largest single payment; <see cref="UInt128.MaxValue"/> (the default) for no limit.</summary>
    public UInt128 MaxPerPayment { get; init; } = UInt128.MaxValue;

    /// <summary>The most the key may spend within any <see cref="WindowLength"/>; <see cref="UInt128.MaxValue"/> (the default) for no limit.</summary>
    public UInt128 WindowLimit { get; init; } = UInt128.MaxValue;

    /// <summary>The rolling window's length in nanoseconds of ledger time (for example one hour or one day); 0 (the default) when there is no window limit.</summary>
    public ulong WindowLength { get; init; }

    /// <summary>Payments above this amount need a co-signature by another active key of the same account; <see cref="UInt128.MaxValue"/> (the default) never.</summary>
    public UInt128 StepUpThreshold { get; init; } = UInt128.MaxValue;

    /// <summary>The most one channel funded under the key may hold in deposits, its open's and top-ups' together; <see cref="UInt128.MaxValue"/> (the default) for no limit.</summary>
    public UInt128 MaxChannelDeposit { get; init; } = UInt128.MaxValue;

    /// <summary>The ledger time (nanoseconds) from which the key may spend; 0 (the default) from the start.</summary>
    public ulong ValidFrom { get; init; }

    /// <summary>The last ledger time (nanoseconds) at which the key may spend; <see cref="ulong.MaxValue"/> (the default) forever.</summary>
    public ulong ValidUntil { get; init; } = ulong.MaxValue;

    /// <summary>The accounts the key may pay (at most 8, no duplicates, none 0); empty (the default) for any account.</summary>
    public IReadOnlyList<UInt128> AllowedPayees
    {
        get => _allowedPayees;
        init => _allowedPayees = [.. value ?? []];
    }

    /// <summary>The ledgers (currencies) the key may pay on (at most 8, no duplicates, none 0); empty (the default) for any ledger.</summary>
    public IReadOnlyList<uint> AllowedLedgers
    {
        get => _allowedLedgers;
        init => _allowedLedgers = [.. value ?? []];
    }

    /// <summary>Checks the policy's rules (the encoding's table): the reason it is not valid, or null when it is.</summary>
    /// <returns>A sentence naming the property that breaks a rule, or null.</returns>
    public string? Validate()
    {
        if (WindowLength == 0 && WindowLimit != UInt128.MaxValue)
        {
            return $"{nameof(WindowLimit)} is set but {nameof(WindowLength)} is 0: a window limit needs a window length.";
        }

        if (ValidUntil < ValidFrom)
        {
            return $"{nameof(ValidUntil)} ({ValidUntil}) is before {nameof(ValidFrom)} ({ValidFrom}).";
        }

        if (_allowedPayees.Length > MaxListLength || _allowedLedgers.Length > MaxListLength)
        {
            return $"A policy lists at most {MaxListLength} allowed payees and {MaxListLength} allowed ledgers.";
        }

        if (_allowedPayees.Contains(UInt128.Zero) || _allowedLedgers.Contains(0u))
        {
            return "An allowed payee or ledger is 0.";
        }

        if (_allowedPayees.Distinct().Count() != _allowedPayees.Length || _allowedLedgers.Distinct().Count() != _allowedLedgers.Length)
        {
            return "The allowed payees or ledgers list a value twice.";
        }

        return null;
    }

    /// <summary>Whether the policy lets the key pay <paramref name="payee"/> (any account when the list is empty).</summary>
    /// <param name="payee">The account paid.</param>
    /// <returns>Whether the payee is allowed.</returns>
    public bool AllowsPayee(UInt128 payee) => _allowedPayees.Length == 0 || Array.IndexOf(_allowedPayees, payee) >= 0;

    /// <summary>Whether the policy lets the key pay on <paramref name="ledgerId"/> (any ledger when the list is empty).</summary>
    /// <param name="ledgerId">The ledger of the payment.</param>
    /// <returns>Whether the ledger is allowed.</returns>
    public bool AllowsLedger(uint ledgerId) => _allowedLedgers.Length == 0 || Array.IndexOf(_allowedLedgers, ledgerId) >= 0;

    /// <summary>Writes the 256-byte encoding.</summary>
    /// <param name="destination">At least <see cref="EncodedSize"/> bytes.</param>
    /// <exception cref="ArgumentException">The buffer is too short, or the policy is not valid (<see cref="Validate"/>).</exception>
    public void Encode(Span<byte> destination)
    {
        if (destination.Length < EncodedSize)
        {
            throw new ArgumentException($"A spending policy takes {EncodedSize} bytes.", nameof(destination));
        }

        if (Validate() is { } why)
        {
            throw new ArgumentException(why, nameof(destination));
        }

        Span<byte> d = destination[..EncodedSize];
        d.Clear();
        BinaryPrimitives.WriteUInt128LittleEndian(d, MaxPerPayment);
        BinaryPrimitives.WriteUInt128LittleEndian(d[16..], WindowLimit);
        BinaryPrimitives.WriteUInt128LittleEndian(d[32..], StepUpThreshold);
        BinaryPrimitives.WriteUInt128LittleEndian(d[48..], MaxChannelDeposit);
        BinaryPrimitives.WriteUInt64LittleEndian(d[64..], WindowLength);
        BinaryPrimitives.WriteUInt64LittleEndian(d[72..], ValidFrom);
        BinaryPrimitives.WriteUInt64LittleEndian(d[80..], ValidUntil);
        d[88] = (byte)_allowedPayees.Length;
        d[89] = (byte)_allowedLedgers.Length;
        for (int i = 0; i < _allowedPayees.Length; i++)
        {
            BinaryPrimitives.WriteUInt128LittleEndian(d[(96 + (16 * i))..], _allowedPayees[i]);
        }

        for (int i = 0; i < _allowedLedgers.Length; i++)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(d[(224 + (4 * i))..], _allowedLedgers[i]);
        }
    }

    /// <summary>Reads a policy; never throws.</summary>
    /// <param name="source">Exactly <see cref="EncodedSize"/> bytes.</param>
    /// <param name="policy">The policy, or null.</param>
    /// <param name="error">Why the bytes are not a valid policy, or null.</param>
    /// <returns>Whether they are.</returns>
    public static bool TryParse(ReadOnlySpan<byte> source, [NotNullWhen(true)] out SpendingPolicy? policy, out string? error)
    {
        policy = null;
        if (source.Length != EncodedSize)
        {
            error = $"a spending policy is {EncodedSize} bytes, not {source.Length}";
            return false;
        }

        int payees = source[88];
        int ledgers = source[89];
        if (payees > MaxListLength || ledgers > MaxListLength)
        {
            error = "the policy's list counts are over 8";
            return false;
        }

        if (source[90..96].ContainsAnyExcept((byte)0) || source[(96 + (16 * payees))..224].ContainsAnyExcept((byte)0) ||
            source[(224 + (4 * ledgers))..].ContainsAnyExcept((byte)0))
        {
            error = "the policy's reserved or unused bytes are not zero";
            return false;
        }

        var allowedPayees = new UInt128[payees];
        for (int i = 0; i < payees; i++)
        {
            allowedPayees[i] = BinaryPrimitives.ReadUInt128LittleEndian(source[(96 + (16 * i))..]);
        }

        var allowedLedgers = new uint[ledgers];
        for (int i = 0; i < ledgers; i++)
        {
            allowedLedgers[i] = BinaryPrimitives.ReadUInt32LittleEndian(source[(224 + (4 * i))..]);
        }

        var parsed = new SpendingPolicy
        {
            MaxPerPayment = BinaryPrimitives.ReadUInt128LittleEndian(source),
            WindowLimit = BinaryPrimitives.ReadUInt128LittleEndian(source[16..]),
            StepUpThreshold = BinaryPrimitives.ReadUInt128LittleEndian(source[32..]),
            MaxChannelDeposit = BinaryPrimitives.ReadUInt128LittleEndian(source[48..]),
            WindowLength = BinaryPrimitives.ReadUInt64LittleEndian(source[64..]),
            ValidFrom = BinaryPrimitives.ReadUInt64LittleEndian(source[72..]),
            ValidUntil = BinaryPrimitives.ReadUInt64LittleEndian(source[80..]),
            AllowedPayees = allowedPayees,
            AllowedLedgers = allowedLedgers,
        };
        error = parsed.Validate();
        if (error is not null)
        {
            return false;
        }

        policy = parsed;
        return true;
    }

    /// <inheritdoc />
    public bool Equals(SpendingPolicy? other)
    {
        if (other is null)
        {
            return false;
        }

        Span<byte> a = stackalloc byte[EncodedSize];
        Span<byte> b = stackalloc byte[EncodedSize];
        return Validate() is null && other.Validate() is null && Encoded(a).SequenceEqual(other.Encoded(b));
    }

    /// <inheritdoc />
    public override bool Equals(object? obj) => Equals(obj as SpendingPolicy);

    /// <inheritdoc />
    public override int GetHashCode() => HashCode.Combine(MaxPerPayment, WindowLimit, WindowLength, StepUpThreshold, ValidUntil);

    /// <inheritdoc />
    public override string ToString() =>
        $"SpendingPolicy(max {Show(MaxPerPayment)} per payment, {Show(WindowLimit)} per {WindowLength} ns, step-up above {Show(StepUpThreshold)}, " +
        $"channel deposit {Show(MaxChannelDeposit)}, valid {ValidFrom}..{ValidUntil}, {_allowedPayees.Length} payees, {_allowedLedgers.Length} ledgers)";

    private Span<byte> Encoded(Span<byte> buffer)
    {
        Encode(buffer);
        return buffer;
    }

    private static string Show(UInt128 amount) => amount == UInt128.MaxValue ? "unlimited" : amount.ToString(System.Globalization.CultureInfo.InvariantCulture);
}
