using Micropay.Core.Channels;
using Micropay.Core.Crypto;
using Micropay.Core.Engine;
using Micropay.Core.Ledger;

namespace Micropay.Core.Benchmarks.Channels;

/// <summary>
/// The accounts, payer key and cumulative channel the channel benchmarks share, opened the same way on an engine or on
/// a bare <see cref="LedgerStateMachine"/>, and the vouchers they redeem.
/// </summary>
/// <remarks>
/// Three accounts on ledger 1: a bank (no limits) that funds the payer, the payer (<see cref="AccountFlags.DebitsMustNotExceedCredits"/>)
/// and the payee. The channel never expires within a run (expiry <c>ulong.MaxValue - 1</c>). Vouchers are numbered from 0
/// across a whole run: voucher <c>g</c> is on lane <c>g % lanes</c> with sequence <c>g / lanes + 1</c> and cumulative
/// amount equal to its sequence, so redeeming them in order pays exactly 1 each and never repeats a (lane, sequence).
/// </remarks>
public static class ChannelFixture
{
    /// <summary>The batch size every channel benchmark uses: the engine's largest batch, 8,189 events (1 MiB).</summary>
    public const int BatchSize = LedgerEngineOptions.DefaultMaxBatchSize;

    /// <summary>The bank's account id.</summary>
    public static readonly UInt128 Bank = 1;

    /// <summary>The payer's account id.</summary>
    public static readonly UInt128 Payer = 2;

    /// <summary>The payee's account id.</summary>
    public static readonly UInt128 Payee = 3;

    /// <summary>The payer's funds and the channel's deposit: 10^12 each, far more than any run redeems or transfers.</summary>
    public static readonly UInt128 Deposit = 1_000_000_000_000UL;

    // RFC 8032 section 7.1, test 1's secret key: a fixed payer key, so runs are repeatable.
    private static readonly byte[] PayerSeed = Convert.FromHexString("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60");

    /// <summary>The payer's signing key (a new instance; the caller disposes it).</summary>
    /// <returns>The key.</returns>
    public static SigningKey PayerKey() => SigningKey.Import(PayerSeed, SigningKeyFormat.RawSeed);

    /// <summary>The three accounts.</summary>
    /// <returns>Bank, payer, payee.</returns>
    public static Account[] Accounts() =>
    [
        new Account { Id = Bank, LedgerId = 1, Code = 1 },
        new Account { Id = Payer, LedgerId = 1, Code = 1, Flags = AccountFlags.DebitsMustNotExceedCredits },
        new Account { Id = Payee, LedgerId = 1, Code = 1 },
    ];

    /// <summary>The bank's transfer that funds the payer with twice the deposit (the deposit, and as much for plain transfers).</summary>
    /// <returns>The transfer.</returns>
    public static Transfer Funding() => new() { Id = 1, DebitAccountId = Bank, CreditAccountId = Payer, Amount = Deposit * 2, LedgerId = 1, Code = 1 };

    /// <summary>A plain transfer of 1 from the payer to the payee: what the baselines apply in place of a redemption.</summary>
    /// <param name="id">The transfer's id (not 0, below the reserved range).</param>
    /// <returns>The transfer.</returns>
    public static Transfer Payment(UInt128 id) => new() { Id = id, DebitAccountId = Payer, CreditAccountId = Payee, Amount = 1, LedgerId = 1, Code = 2 };

    /// <summary>The channel's config for <paramref name="instanceId"/>.</summary>
    /// <param name="instanceId">The ledger instance.</param>
    /// <param name="payerKey">The payer's key.</param>
    /// <returns>The config.</returns>
    public static ChannelConfig Config(UInt128 instanceId, SigningKey payerKey) =>
        ChannelConfig.CreateCumulative(instanceId, Payer, Payee, 1, payerKey.VerificationKey, ulong.MaxValue - 1, settleDelay: 3_600_000_000_000UL, salt: 0);

    /// <summary>Creates the accounts, funds the payer and opens the channel through the engine.</summary>
    /// <param name="engine">A new engine.</param>
    /// <param name="payerKey">The payer's key.</param>
    /// <returns>The channel's config.</returns>
    public static ChannelConfig OpenOnEngine(LedgerEngine engine, SigningKey payerKey)
    {
        Account[] accounts = Accounts();
        if (engine.CreateAccountsAsync(accounts, new CreateAccountResult[accounts.Length]).AsTask().GetAwaiter().GetResult() != 0 ||
            engine.CreateTransferAsync(Funding()).AsTask().GetAwaiter().GetResult() != CreateTransferResult.Ok)
        {
            throw new InvalidOperationException("The engine refused the benchmark's accounts or funding.");
        }

        ChannelConfig config = Config(engine.InstanceId, payerKey);
        ChannelResult opened = engine.OpenChannelAsync(ChannelOpenRequest.Sign(payerKey, config, Deposit)).AsTask().GetAwaiter().GetResult();
        if (opened != ChannelResult.Ok)
        {
            throw new InvalidOperationException($"The engine refused the benchmark's channel: {opened}.");
        }

        return config;
    }

    /// <summary>
    /// Gives a bare ledger an instance id, the accounts and the funding, and opens the channel through the engine's own
    /// operation description (the writer thread's path, as the journal's replay applies it).
    /// </summary>
    /// <param name="ledger">A new ledger.</param>
    /// <param name="instanceId">The instance id to give it.</param>
    /// <param name="payerKey">The payer's key.</param>
    /// <returns>The channel's config.</returns>
    public static ChannelConfig OpenOnLedger(LedgerStateMachine ledger, UInt128 instanceId, SigningKey payerKey)
    {
        Account[] accounts = Accounts();
        if (ledger.SetInstanceId(1, instanceId) != InstanceIdResult.Ok ||
            ledger.CreateAccounts(2, accounts, new CreateAccountResult[accounts.Length]) != 0 ||
            ledger.CreateTransfer(3, Funding()) != CreateTransferResult.Ok)
        {
            throw new InvalidOperationException("The ledger refused the benchmark's instance id, accounts or funding.");
        }

        ChannelConfig config = Config(instanceId, payerKey);
        var results = new ChannelResult[1];
        OperationRegistry.OpenChannels.Apply(ledger, 4, [ChannelOpenRequest.Sign(payerKey, config, Deposit)], results);
        if (results[0] != ChannelResult.Ok)
        {
            throw new InvalidOperationException($"The ledger refused the benchmark's channel: {results[0]}.");
        }

        return config;
    }

    /// <summary>Signs vouchers <paramref name="first"/> .. <paramref name="first"/> + count − 1 into <paramref name="destination"/>, on every core.</summary>
    /// <param name="payerKey">The payer's key.</param>
    /// <param name="config">The channel.</param>
    /// <param name="first">The first voucher's number in the run.</param>
    /// <param name="lanes">Lanes the vouchers rotate over.</param>
    /// <param name="destination">Receives the vouchers.</param>
    public static void SignVouchers(SigningKey payerKey, ChannelConfig config, long first, uint lanes, Voucher[] destination)
    {
        Parallel.For(0, destination.Length, i =>
        {
            (uint lane, ulong sequence) = Position(first + i, lanes);
            destination[i] = Voucher.Sign(payerKey, config.InstanceId, config.Id, lane, sequence, sequence, ulong.MaxValue);
        });
    }

    /// <summary>
    /// Makes the same vouchers without signing them: each one's fields and 64 zero bytes for a signature, parsed. For the
    /// writer alone, which never verifies (the edge did, before the ring), so the signature bytes make no difference there.
    /// </summary>
    /// <param name="config">The channel.</param>
    /// <param name="first">The first voucher's number in the run.</param>
    /// <param name="lanes">Lanes the vouchers rotate over.</param>
    /// <param name="destination">Receives the vouchers.</param>
    public static void UnsignedVouchers(ChannelConfig config, long first, uint lanes, Span<Voucher> destination)
    {
        Span<byte> encoded = stackalloc byte[Voucher.Size];
        encoded.Clear();
        encoded[0] = Voucher.CurrentVersion;
        encoded[1] = Voucher.CumulativeKind;
        System.Buffers.Binary.BinaryPrimitives.WriteUInt128LittleEndian(encoded[16..], config.Id);
        System.Buffers.Binary.BinaryPrimitives.WriteUInt64LittleEndian(encoded[48..], ulong.MaxValue);
        for (int i = 0; i < destination.Length; i++)
        {
            (uint lane, ulong sequence) = Position(first + i, lanes);
            System.Buffers.Binary.BinaryPrimitives.WriteUInt32LittleEndian(encoded[4..], lane);
            System.Buffers.Binary.BinaryPrimitives.WriteUInt64LittleEndian(encoded[8..], sequence);
            System.Buffers.Binary.BinaryPrimitives.WriteUInt128LittleEndian(encoded[32..], sequence);
            if (!Voucher.TryParse(encoded, out destination[i], out ChannelFormatError error))
            {
                throw new InvalidOperationException($"The benchmark's voucher does not parse: {error}.");
            }
        }
    }

    private static (uint Lane, ulong Sequence) Position(long number, uint lanes) =>
        ((uint)(number % lanes), (ulong)(number / lanes) + 1);
}
