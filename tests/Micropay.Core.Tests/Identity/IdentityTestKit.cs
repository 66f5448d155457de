using System.Buffers;
using Micropay.Core.Channels;
using Micropay.Core.Crypto;
using Micropay.Core.Engine;
using Micropay.Core.Identity;
using Micropay.Core.Ledger;
using static Micropay.Core.Tests.Records;

namespace Micropay.Core.Tests.Identity;

/// <summary>
/// A ledger with a funded payer, a payee and another account, two Ed25519 keys of the payer (a device and a phone), and
/// helpers that apply key operations and orders through the engine's operation descriptions at chosen ledger times (the
/// writer thread's path, without threads), as the journal's replay does.
/// </summary>
internal sealed class IdentityTestKit : IDisposable
{
    public const ulong Second = 1_000_000_000UL;
    public static readonly UInt128 Instance = new(0x1111_2222_3333_4444UL, 0x5555_6666_7777_8888UL);
    public static readonly UInt128 Bank = 1;
    public static readonly UInt128 Payer = 2;
    public static readonly UInt128 Payee = 3;
    public static readonly UInt128 Other = 4;

    // RFC 8032 section 7.1, tests 1 and 2's secret keys: fixed keys, so failures reproduce.
    private static readonly byte[] DeviceSeed = Convert.FromHexString("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60");
    private static readonly byte[] PhoneSeed = Convert.FromHexString("4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb");

    private ulong _nextOrderId = 10_000;

    /// <param name="payerFunds">What the bank pays the payer at the start.</param>
    /// <param name="transferCapacity">The ledger's transfer capacity hint (room reserved up front, for the allocation tests).</param>
    public IdentityTestKit(UInt128 payerFunds, int transferCapacity = 0)
    {
        Ledger = new LedgerStateMachine(accountCapacity: 0, transferCapacity);
        Assert.Equal(InstanceIdResult.Ok, Ledger.SetInstanceId(1_000 * Second, Instance));
        Assert.Equal(0, Ledger.CreateAccounts(Ledger.LastTimestamp + 1, [Acct(Bank), Acct(Payer, AccountFlags.DebitsMustNotExceedCredits), Acct(Payee), Acct(Other)], new CreateAccountResult[4]));
        Assert.Equal(CreateTransferResult.Ok, Ledger.CreateTransfer(Ledger.LastTimestamp + 1, Tr(999, Bank, Payer, payerFunds)));
        Device = SigningKey.Import(DeviceSeed, SigningKeyFormat.RawSeed);
        Phone = SigningKey.Import(PhoneSeed, SigningKeyFormat.RawSeed);
    }

    private IdentityTestKit(LedgerStateMachine ledger)
    {
        Ledger = ledger;
        Device = SigningKey.Import(DeviceSeed, SigningKeyFormat.RawSeed);
        Phone = SigningKey.Import(PhoneSeed, SigningKeyFormat.RawSeed);
    }

    public LedgerStateMachine Ledger { get; }

    public SigningKey Device { get; }

    public SigningKey Phone { get; }

    public UInt128 DeviceKeyId => KeyIds.Of(Device.VerificationKey);

    public UInt128 PhoneKeyId => KeyIds.Of(Phone.VerificationKey);

    /// <summary>The ledger's clock: the time of the last event applied.</summary>
    public ulong Now => Ledger.LastTimestamp;

    /// <summary>Applies key operations in one batch at <paramref name="at"/> (default: the next nanosecond).</summary>
    public KeyResult[] Keys(ulong at, params KeyOperation[] operations)
    {
        var results = new KeyResult[operations.Length];
        OperationRegistry.ManageKeys.Apply(Ledger, at == 0 ? Now + 1 : at, operations, results);
        return results;
    }

    public KeyResult Key(KeyOperation operation, ulong at = 0) => Keys(at, operation)[0];

    public KeyResult RegisterDevice(SpendingPolicy policy) => Key(KeyOperation.RegisterEd25519(Payer, Device.VerificationKey, policy));

    public KeyResult RegisterPhone(SpendingPolicy? policy = null) => Key(KeyOperation.RegisterEd25519(Payer, Phone.VerificationKey, policy ?? SpendingPolicy.Unlimited));

    /// <summary>A new order by <paramref name="key"/> (default: the device) from the payer to <paramref name="payee"/> (default: the payee).</summary>
    public PaymentOrder Order(UInt128 amount, SigningKey? key = null, UInt128 payee = default, uint ledgerId = 1, ulong validUntil = ulong.MaxValue, UInt128 id = default, UInt128 debit = default) =>
        PaymentOrder.Sign(key ?? Device, Instance, Tr(id == UInt128.Zero ? _nextOrderId++ : id, debit == UInt128.Zero ? Payer : debit, payee == UInt128.Zero ? Payee : payee, amount) with { LedgerId = ledgerId }, validUntil);

    /// <summary>The order co-signed by the phone.</summary>
    public PaymentOrder CoSigned(PaymentOrder order, SigningKey? coSigner = null) => order.WithCoSignature(CoSignature.SignEd25519(coSigner ?? Phone, order, Instance));

    /// <summary>Applies orders in one batch at <paramref name="at"/> (default: the next nanosecond), through the co-signed operation when any is co-signed.</summary>
    public OrderResult[] Execute(ulong at, params PaymentOrder[] orders)
    {
        var results = new OrderResult[orders.Length];
        ExecuteOrdersOperation operation = orders.Any(o => o.CoSignature is not null) ? OperationRegistry.ExecuteCoSignedOrders : OperationRegistry.ExecuteOrders;
        operation.Apply(Ledger, at == 0 ? Now + 1 : at, orders, results);
        Conservation.AssertConserved(Ledger.Accounts);
        return results;
    }

    public OrderResult Execute(PaymentOrder order, ulong at = 0) => Execute(at, order)[0];

    /// <summary>A cumulative channel from the payer to the payee under <paramref name="payerKey"/> (default: the device).</summary>
    public ChannelConfig Channel(SigningKey? payerKey = null, UInt128 salt = default) =>
        ChannelConfig.CreateCumulative(Instance, Payer, Payee, 1, (payerKey ?? Device).VerificationKey, Now + (3600 * Second), 60 * Second, salt);

    public ChannelResult Open(ChannelConfig config, UInt128 deposit, SigningKey? payerKey = null, CoSignature? coSignature = null)
    {
        ChannelOpenRequest request = ChannelOpenRequest.Sign(payerKey ?? Device, config, deposit).WithCoSignature(coSignature);
        var results = new ChannelResult[1];
        (coSignature is null ? (ChannelOperation<ChannelOpenRequest>)OperationRegistry.OpenChannels : OperationRegistry.OpenCoSignedChannels)
            .Apply(Ledger, Now + 1, [request], results);
        Conservation.AssertConserved(Ledger.Accounts);
        return results[0];
    }

    public ChannelResult TopUp(ChannelConfig config, UInt128 amount, UInt128 transferId)
    {
        var results = new ChannelResult[1];
        OperationRegistry.TopUpChannels.Apply(Ledger, Now + 1, [new ChannelTopUp(transferId, config.Id, amount)], results);
        return results[0];
    }

    public UInt128 Balance(UInt128 account)
    {
        Assert.True(Ledger.TryGetAccount(account, out Account a));
        return a.CreditsPosted - a.DebitsPosted;
    }

    /// <summary>
    /// A kit over a ledger restored from a snapshot of this one: the ledger's section, then the instance id, the
    /// "channels" section (when the ledger has channels) and the "identity" section, as the engine's recovery restores them.
    /// </summary>
    public IdentityTestKit Restored()
    {
        var ledgerBytes = new ArrayBufferWriter<byte>();
        Ledger.WriteSnapshot(ledgerBytes);
        LedgerStateMachine restored = LedgerStateMachine.ReadSnapshot(ledgerBytes.WrittenSpan);
        restored.RestoreInstanceId(Ledger.InstanceId);
        if (ChannelBook.Find(Ledger) is { } channels)
        {
            var channelBytes = new ArrayBufferWriter<byte>();
            channels.WriteSnapshot(channelBytes);
            ChannelBook.RestoreSnapshot(restored, new ReadOnlySequence<byte>(channelBytes.WrittenMemory));
        }

        if (IdentityBook.Find(Ledger) is { } keys)
        {
            var identityBytes = new ArrayBufferWriter<byte>();
            keys.WriteSnapshot(identityBytes);
            Assert.Equal(keys.SnapshotSize, identityBytes.WrittenCount);
            IdentityBook.RestoreSnapshot(restored, new ReadOnlySequence<byte>(identityBytes.WrittenMemory));
        }

        return new IdentityTestKit(restored) { _nextOrderId = _nextOrderId };
    }

    /// <summary>
    /// Every registered key's state in the state machine, one line each in registration order: id, account, status,
    /// registration and revocation times, sign count, the policy's encoding and the payments in the window (amount and time).
    /// </summary>
    public static string DescribeKeys(LedgerStateMachine ledger)
    {
        if (IdentityBook.Find(ledger) is not { } book)
        {
            return "no keys";
        }

        var lines = new System.Text.StringBuilder();
        byte[] policy = new byte[SpendingPolicy.EncodedSize];
        foreach (KeyState key in book.All)
        {
            key.Policy.Encode(policy);
            lines.Append(System.Globalization.CultureInfo.InvariantCulture, $"{key.KeyId:X32} account {key.AccountId} registered {key.RegisteredAt} {key.Status} at {key.RevokedAt} sign count {key.SignCount} policy {Convert.ToHexString(policy)} window");
            for (int i = 0; i < key.Window.Count; i++)
            {
                (ulong at, UInt128 amount) = key.Window[i];
                lines.Append(System.Globalization.CultureInfo.InvariantCulture, $" {amount}@{at}");
            }

            lines.AppendLine();
        }

        return lines.ToString();
    }

    /// <summary>Every account's balances in the state machine, one line each.</summary>
    public static string DescribeAccounts(LedgerStateMachine ledger) => string.Join(
        "\n",
        ledger.Accounts.ToArray().Select(a => string.Create(
            System.Globalization.CultureInfo.InvariantCulture,
            $"{a.Id}: debits {a.DebitsPosted} (pending {a.DebitsPending}), credits {a.CreditsPosted} (pending {a.CreditsPending})")));

    public void Dispose()
    {
        Device.Dispose();
        Phone.Dispose();
    }
}
