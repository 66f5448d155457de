using System.Buffers.Binary;
using System.Diagnostics.CodeAnalysis;
using System.Security.Cryptography;
using Micropay.Core.Crypto;
using Micropay.Core.Ledger;

namespace Micropay.Core.Channels;

/// <summary>
/// The immutable terms of a payment channel: a one-way line of credit from a payer account to a payee account on one
/// ledger instance. Its SHA-256 hash is the channel's <see cref="Id"/>, which is also the id of the escrow account that
/// holds the deposit.
/// </summary>
/// <remarks>
/// <para>Encoding (version 1, 176 bytes, little-endian), written and read field by field:</para>
/// <code>
/// offset size field
///      0    1 Version          1
///      1    1 Mode             ChannelMode: 1 = Cumulative, 2 = HashChain
///      2    2 Reserved         0
///      4    4 LedgerId         the ledger (currency) of the payer, payee and escrow accounts; not 0
///      8   16 InstanceId       the ledger instance the channel lives on; not 0
///     24   16 PayerAccountId   not 0, not reserved (ReservedIds.IsReserved)
///     40   16 PayeeAccountId   not 0, not reserved, != payer
///     56   32 PayerKey         Ed25519 verification key that signs vouchers, the open and the unilateral close
///     88    8 ExpiresAt        ledger clock, nanoseconds; the channel closes then; not 0
///     96    8 SettleDelay      nanoseconds between a payer's unilateral close and the refund
///    104   16 Salt             any value; makes ids of otherwise equal configs differ
///    120   32 ChainRoot        HashChain: root = H^n(seed), not all zeros; Cumulative: zeros
///    152   16 UnitAmount       HashChain: amount per tick, not 0; Cumulative: 0
///    168    4 ChainLength      HashChain: n, not 0; Cumulative: 0
///    172    4 Reserved         0
/// </code>
/// <para>
/// The channel id is <c>ReservedIds.FromHash(SHA-256(DomainTags.ChannelId || the 176 bytes))</c>: the first 12 bytes of
/// the hash under the reserved id prefix, so ordinary accounts can never take a channel's escrow id. The domain tag
/// ("micropay/channel/v1", zero-padded to 32 bytes) keeps the hash apart from every other hash the library derives ids
/// from. The salt lets one payer open several channels with otherwise equal terms.
/// </para>
/// <para>
/// Every config this type holds satisfies the rules in the table: the factories throw <see cref="ArgumentException"/>
/// naming the parameter that breaks one, and <see cref="TryParse"/> reports it as a <see cref="ChannelFormatError"/>,
/// checking the length, version, mode and reserved bytes first, then the fields in table order.
/// </para>
/// </remarks>
public sealed class ChannelConfig : IEquatable<ChannelConfig>
{
    /// <summary>The size of the encoding in bytes: 176.</summary>
    public const int EncodedSize = 176;

    /// <summary>The format version this library writes and reads: 1.</summary>
    public const byte CurrentVersion = 1;

    /// <summary>The size of <see cref="ChainRoot"/> in bytes: 32 (a BLAKE2b-256 hash).</summary>
    public const int ChainRootSize = 32;

    private const int ChainRootOffset = 120;

    // The 176 bytes this config encodes to: the source of Encode, of equality and of the id.
    private readonly byte[] _encoded;

    private ChannelConfig(
        ChannelMode mode,
        uint ledgerId,
        UInt128 instanceId,
        UInt128 payerAccountId,
        UInt128 payeeAccountId,
        VerificationKey payerKey,
        ulong expiresAt,
        ulong settleDelay,
        UInt128 salt,
        ReadOnlySpan<byte> chainRoot,
        UInt128 unitAmount,
        uint chainLength)
    {
        Mode = mode;
        LedgerId = ledgerId;
        InstanceId = instanceId;
        PayerAccountId = payerAccountId;
        PayeeAccountId = payeeAccountId;
        PayerKey = payerKey;
        ExpiresAt = expiresAt;
        SettleDelay = settleDelay;
        Salt = salt;
        UnitAmount = unitAmount;
        ChainLength = chainLength;

        _encoded = new byte[EncodedSize];
        Span<byte> d = _encoded;
        d[0] = CurrentVersion;
        d[1] = (byte)mode;
        BinaryPrimitives.WriteUInt32LittleEndian(d[4..], ledgerId);
        BinaryPrimitives.WriteUInt128LittleEndian(d[8..], instanceId);
        BinaryPrimitives.WriteUInt128LittleEndian(d[24..], payerAccountId);
        BinaryPrimitives.WriteUInt128LittleEndian(d[40..], payeeAccountId);
        payerKey.CopyTo(d[56..]);
        BinaryPrimitives.WriteUInt64LittleEndian(d[88..], expiresAt);
        BinaryPrimitives.WriteUInt64LittleEndian(d[96..], settleDelay);
        BinaryPrimitives.WriteUInt128LittleEndian(d[104..], salt);
        chainRoot.CopyTo(d[ChainRootOffset..]);
        BinaryPrimitives.WriteUInt128LittleEndian(d[152..], unitAmount);
        BinaryPrimitives.WriteUInt32LittleEndian(d[168..], chainLength);

        Id = DeriveId(_encoded);

        // Derived once, where the config is built (at the edge or when a record is read), so the writer never hashes
        // for it: every open and top-up of a key-governed payer looks the payer key up by it.
        PayerKeyId = Identity.KeyIds.Of(payerKey);
    }

    /// <summary>How the payer pays: signed cumulative vouchers or hash-chain ticks.</summary>
    public ChannelMode Mode { get; }

    /// <summary>The ledger (currency) of the payer, payee and escrow accounts. Never 0.</summary>
    public uint LedgerId { get; }

    /// <summary>The ledger instance the channel lives on; every signature of the channel binds it. Never 0.</summary>
    public UInt128 InstanceId { get; }

    /// <summary>The account the deposit comes from and the refund goes back to. Never 0 nor reserved.</summary>
    public UInt128 PayerAccountId { get; }

    /// <summary>The account the payments go to. Never 0, reserved, nor the payer.</summary>
    public UInt128 PayeeAccountId { get; }

    /// <summary>The payer's Ed25519 key: it signs the vouchers, the open and the unilateral close.</summary>
    public VerificationKey PayerKey { get; }

    /// <summary>When the channel closes, in nanoseconds of the ledger's clock. Never 0.</summary>
    public ulong ExpiresAt { get; }

    /// <summary>Nanoseconds between a payer's unilateral close and the refund, so the payee can redeem its newest vouchers first.</summary>
    public ulong SettleDelay { get; }

    /// <summary>Any value, chosen by whoever opens the channel: it makes the ids of otherwise equal configs differ.</summary>
    public UInt128 Salt { get; }

    /// <summary>In <see cref="ChannelMode.HashChain"/> mode the root H^n(seed) of the payer's hash chain; otherwise 32 zeros.</summary>
    public ReadOnlySpan<byte> ChainRoot => _encoded.AsSpan(ChainRootOffset, ChainRootSize);

    /// <summary>In <see cref="ChannelMode.HashChain"/> mode the amount one tick pays (never 0); otherwise 0.</summary>
    public UInt128 UnitAmount { get; }

    /// <summary>In <see cref="ChannelMode.HashChain"/> mode the number of ticks n the chain holds (never 0); otherwise 0.</summary>
    public uint ChainLength { get; }

    /// <summary>
    /// The channel id, which is also the escrow account's id: <c>ReservedIds.FromHash(SHA-256(DomainTags.ChannelId ||
    /// encoding))</c>, computed once. Always a reserved id (<see cref="ReservedIds.IsReserved"/>).
    /// </summary>
    public UInt128 Id { get; }

    /// <summary>The payer key's registry id (<see cref="Identity.KeyIds.Of(VerificationKey)"/>).</summary>
    internal UInt128 PayerKeyId { get; }

    /// <summary>The encoding, for the certificate that embeds it.</summary>
    internal ReadOnlySpan<byte> Encoded => _encoded;

    /// <summary>Creates the config of a <see cref="ChannelMode.Cumulative"/> (voucher) channel.</summary>
    /// <param name="instanceId">The ledger instance; not 0.</param>
    /// <param name="payerAccountId">The payer's account; not 0, not reserved.</param>
    /// <param name="payeeAccountId">The payee's account; not 0, not reserved, not the payer's.</param>
    /// <param name="ledgerId">The ledger (currency) of both accounts; not 0.</param>
    /// <param name="payerKey">The payer's verification key.</param>
    /// <param name="expiresAt">When the channel closes, ledger clock nanoseconds; not 0.</param>
    /// <param name="settleDelay">Nanoseconds between a unilateral close and the refund.</param>
    /// <param name="salt">Any value that makes the id unique.</param>
    /// <returns>The config.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="payerKey"/> is null.</exception>
    /// <exception cref="ArgumentException">A parameter breaks a rule; the exception names it.</exception>
    public static ChannelConfig CreateCumulative(
        UInt128 instanceId,
        UInt128 payerAccountId,
        UInt128 payeeAccountId,
        uint ledgerId,
        VerificationKey payerKey,
        ulong expiresAt,
        ulong settleDelay,
        UInt128 salt)
    {
        ArgumentNullException.ThrowIfNull(payerKey);
        Span<byte> noChain = stackalloc byte[ChainRootSize];
        noChain.Clear();
        ThrowIfInvalid(ChannelMode.Cumulative, ledgerId, instanceId, payerAccountId, payeeAccountId, expiresAt, noChain, UInt128.Zero, 0);
        return new ChannelConfig(ChannelMode.Cumulative, ledgerId, instanceId, payerAccountId, payeeAccountId, payerKey, expiresAt, settleDelay, salt, noChain, UInt128.Zero, 0);
    }

    /// <summary>Creates the config of a <see cref="ChannelMode.HashChain"/> (PayWord) channel.</summary>
    /// <param name="instanceId">The ledger instance; not 0.</param>
    /// <param name="payerAccountId">The payer's account; not 0, not reserved.</param>
    /// <param name="payeeAccountId">The payee's account; not 0, not reserved, not the payer's.</param>
    /// <param name="ledgerId">The ledger (currency) of both accounts; not 0.</param>
    /// <param name="payerKey">The payer's verification key.</param>
    /// <param name="expiresAt">When the channel closes, ledger clock nanoseconds; not 0.</param>
    /// <param name="settleDelay">Nanoseconds between a unilateral close and the refund.</param>
    /// <param name="salt">Any value that makes the id unique.</param>
    /// <param name="chainRoot">The chain's root H^n(seed): 32 bytes, not all zeros.</param>
    /// <param name="unitAmount">The amount one tick pays; not 0.</param>
    /// <param name="chainLength">The number of ticks n; not 0.</param>
    /// <returns>The config.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="payerKey"/> is null.</exception>
    /// <exception cref="ArgumentException">A parameter breaks a rule; the exception names it.</exception>
    public static ChannelConfig CreateHashChain(
        UInt128 instanceId,
        UInt128 payerAccountId,
        UInt128 payeeAccountId,
        uint ledgerId,
        VerificationKey payerKey,
        ulong expiresAt,
        ulong settleDelay,
        UInt128 salt,
        ReadOnlySpan<byte> chainRoot,
        UInt128 unitAmount,
        uint chainLength)
    {
        ArgumentNullException.ThrowIfNull(payerKey);
        if (chainRoot.Length != ChainRootSize)
        {
            ThrowHelper.ThrowArgumentException_WrongLength(nameof(chainRoot), "The chain root", ChainRootSize, chainRoot.Length);
        }

        ThrowIfInvalid(ChannelMode.HashChain, ledgerId, instanceId, payerAccountId, payeeAccountId, expiresAt, chainRoot, unitAmount, chainLength);
        return new ChannelConfig(ChannelMode.HashChain, ledgerId, instanceId, payerAccountId, payeeAccountId, payerKey, expiresAt, settleDelay, salt, chainRoot, unitAmount, chainLength);
    }

    /// <summary>Writes the 176-byte encoding (the byte table in the remarks).</summary>
    /// <param name="destination">At least <see cref="EncodedSize"/> bytes; the encoding goes to the first 176.</param>
    /// <exception cref="ArgumentException"><paramref name="destination"/> is shorter than <see cref="EncodedSize"/> bytes.</exception>
    public void Encode(Span<byte> destination)
    {
        if (destination.Length < EncodedSize)
        {
            ThrowHelper.ThrowArgumentException_BufferTooShort(nameof(destination), EncodedSize);
        }

        _encoded.CopyTo(destination);
    }

    /// <summary>Writes the 176-byte encoding, if it fits.</summary>
    /// <param name="destination">Receives the encoding in its first <see cref="EncodedSize"/> bytes.</param>
    /// <param name="written"><see cref="EncodedSize"/> on success; 0 otherwise.</param>
    /// <returns>Whether <paramref name="destination"/> was long enough; nothing is written when it was not.</returns>
    public bool TryEncode(Span<byte> destination, out int written)
    {
        if (destination.Length < EncodedSize)
        {
            written = 0;
            return false;
        }

        _encoded.CopyTo(destination);
        written = EncodedSize;
        return true;
    }

    /// <summary>Reads a config from its encoding, checking every rule of the byte table. Never throws.</summary>
    /// <param name="source">Exactly <see cref="EncodedSize"/> bytes.</param>
    /// <param name="config">The config, when the result is true; otherwise null.</param>
    /// <param name="error">The first rule the bytes break, or <see cref="ChannelFormatError.None"/>.</param>
    /// <returns>Whether <paramref name="source"/> is a valid version-1 config.</returns>
    public static bool TryParse(ReadOnlySpan<byte> source, [NotNullWhen(true)] out ChannelConfig? config, out ChannelFormatError error)
    {
        config = null;
        if (source.Length != EncodedSize)
        {
            error = ChannelFormatError.WrongLength;
            return false;
        }

        if (source[0] != CurrentVersion)
        {
            error = ChannelFormatError.UnknownVersion;
            return false;
        }

        var mode = (ChannelMode)source[1];
        if (mode is not (ChannelMode.Cumulative or ChannelMode.HashChain))
        {
            error = ChannelFormatError.UnknownMode;
            return false;
        }

        if (source[2] != 0 || source[3] != 0 || source[172..EncodedSize].IndexOfAnyExcept((byte)0) >= 0)
        {
            error = ChannelFormatError.ReservedNotZero;
            return false;
        }

        uint ledgerId = BinaryPrimitives.ReadUInt32LittleEndian(source[4..]);
        UInt128 instanceId = BinaryPrimitives.ReadUInt128LittleEndian(source[8..]);
        UInt128 payerAccountId = BinaryPrimitives.ReadUInt128LittleEndian(source[24..]);
        UInt128 payeeAccountId = BinaryPrimitives.ReadUInt128LittleEndian(source[40..]);
        ulong expiresAt = BinaryPrimitives.ReadUInt64LittleEndian(source[88..]);
        ulong settleDelay = BinaryPrimitives.ReadUInt64LittleEndian(source[96..]);
        UInt128 salt = BinaryPrimitives.ReadUInt128LittleEndian(source[104..]);
        ReadOnlySpan<byte> chainRoot = source.Slice(ChainRootOffset, ChainRootSize);
        UInt128 unitAmount = BinaryPrimitives.ReadUInt128LittleEndian(source[152..]);
        uint chainLength = BinaryPrimitives.ReadUInt32LittleEndian(source[168..]);

        error = CheckAccounts(ledgerId, instanceId, payerAccountId, payeeAccountId, out _);
        if (error != ChannelFormatError.None)
        {
            return false;
        }

        if (!VerificationKey.TryCreate(source.Slice(56, VerificationKey.Size), out VerificationKey? payerKey))
        {
            error = ChannelFormatError.BadVerificationKey;
            return false;
        }

        error = CheckTerms(mode, expiresAt, chainRoot, unitAmount, chainLength, out _);
        if (error != ChannelFormatError.None)
        {
            return false;
        }

        config = new ChannelConfig(mode, ledgerId, instanceId, payerAccountId, payeeAccountId, payerKey, expiresAt, settleDelay, salt, chainRoot, unitAmount, chainLength);
        return true;
    }

    /// <inheritdoc />
    public bool Equals([NotNullWhen(true)] ChannelConfig? other) =>
        other is not null && _encoded.AsSpan().SequenceEqual(other._encoded);

    /// <inheritdoc />
    public override bool Equals([NotNullWhen(true)] object? obj) => obj is ChannelConfig other && Equals(other);

    /// <inheritdoc />
    public override int GetHashCode() => Id.GetHashCode();

    /// <summary>Compares two configs by their encodings; two nulls are equal.</summary>
    /// <param name="left">A config or null.</param>
    /// <param name="right">A config or null.</param>
    /// <returns>Whether both are null or both encode to the same bytes.</returns>
    public static bool operator ==(ChannelConfig? left, ChannelConfig? right) => left is null ? right is null : left.Equals(right);

    /// <summary>Compares two configs by their encodings; two nulls are equal.</summary>
    /// <param name="left">A config or null.</param>
    /// <param name="right">A config or null.</param>
    /// <returns>Whether exactly one is null or they encode to different bytes.</returns>
    public static bool operator !=(ChannelConfig? left, ChannelConfig? right) => !(left == right);

    /// <summary>The channel id in hexadecimal and the main terms.</summary>
    /// <returns>A one-line description; the config holds no secret.</returns>
    public override string ToString() =>
        $"ChannelConfig {{ Id = {Id:x32}, Mode = {Mode}, Instance = {InstanceId:x32}, Ledger = {LedgerId}, Payer = {PayerAccountId}, Payee = {PayeeAccountId}, PayerKey = {PayerKey}, ExpiresAt = {ExpiresAt}, SettleDelay = {SettleDelay} }}";

    private static void ThrowIfInvalid(
        ChannelMode mode,
        uint ledgerId,
        UInt128 instanceId,
        UInt128 payerAccountId,
        UInt128 payeeAccountId,
        ulong expiresAt,
        ReadOnlySpan<byte> chainRoot,
        UInt128 unitAmount,
        uint chainLength)
    {
        ChannelFormatError error = CheckAccounts(ledgerId, instanceId, payerAccountId, payeeAccountId, out string parameter);
        if (error == ChannelFormatError.None)
        {
            error = CheckTerms(mode, expiresAt, chainRoot, unitAmount, chainLength, out parameter);
        }

        if (error != ChannelFormatError.None)
        {
            ThrowHelper.ThrowArgumentException_Field(parameter, error);
        }
    }

    // The rules of bytes 4..55, in table order; parameter names the factory parameter that breaks the rule.
    private static ChannelFormatError CheckAccounts(uint ledgerId, UInt128 instanceId, UInt128 payerAccountId, UInt128 payeeAccountId, out string parameter)
    {
        if (ledgerId == 0)
        {
            parameter = nameof(ledgerId);
            return ChannelFormatError.ZeroLedgerId;
        }

        if (instanceId == UInt128.Zero)
        {
            parameter = nameof(instanceId);
            return ChannelFormatError.ZeroInstanceId;
        }

        parameter = nameof(payerAccountId);
        ChannelFormatError error = CheckAccount(payerAccountId);
        if (error != ChannelFormatError.None)
        {
            return error;
        }

        parameter = nameof(payeeAccountId);
        error = CheckAccount(payeeAccountId);
        if (error != ChannelFormatError.None)
        {
            return error;
        }

        if (payeeAccountId == payerAccountId)
        {
            return ChannelFormatError.SameAccounts;
        }

        parameter = string.Empty;
        return ChannelFormatError.None;
    }

    private static ChannelFormatError CheckAccount(UInt128 accountId) =>
        accountId == UInt128.Zero ? ChannelFormatError.ZeroAccountId :
        ReservedIds.IsReserved(accountId) ? ChannelFormatError.ReservedAccountId :
        ChannelFormatError.None;

    // The rules of bytes 88..171, in table order (the payer key at 56 is checked between the two halves).
    private static ChannelFormatError CheckTerms(ChannelMode mode, ulong expiresAt, ReadOnlySpan<byte> chainRoot, UInt128 unitAmount, uint chainLength, out string parameter)
    {
        if (expiresAt == 0)
        {
            parameter = nameof(expiresAt);
            return ChannelFormatError.ZeroExpiry;
        }

        bool rootIsZero = chainRoot.IndexOfAnyExcept((byte)0) < 0;
        if (mode == ChannelMode.Cumulative)
        {
            // Only parsed bytes can break this rule: CreateCumulative has no chain parameters.
            parameter = nameof(mode);
            return rootIsZero && unitAmount == UInt128.Zero && chainLength == 0 ? ChannelFormatError.None : ChannelFormatError.ChainFieldsInCumulativeMode;
        }

        if (rootIsZero)
        {
            parameter = nameof(chainRoot);
            return ChannelFormatError.ZeroChainRoot;
        }

        if (unitAmount == UInt128.Zero)
        {
            parameter = nameof(unitAmount);
            return ChannelFormatError.ZeroUnitAmount;
        }

        if (chainLength == 0)
        {
            parameter = nameof(chainLength);
            return ChannelFormatError.ZeroChainLength;
        }

        parameter = string.Empty;
        return ChannelFormatError.None;
    }

    private static UInt128 DeriveId(ReadOnlySpan<byte> encoded)
    {
        Span<byte> input = stackalloc byte[DomainTags.Size + EncodedSize];
        DomainTags.ChannelId.CopyTo(input);
        encoded.CopyTo(input[DomainTags.Size..]);
        Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(input, hash);
        return ReservedIds.FromHash(hash);
    }
}
