using Micropay.Core.Benchmarks.Channels;
using Micropay.Core.Crypto;
using Micropay.Core.Engine;
using Micropay.Core.Identity;
using Micropay.Core.Ledger;

namespace Micropay.Core.Benchmarks.Identity;

/// <summary>
/// The accounts, device key and spending policy the identity benchmarks share, set up the same way on an engine or on a
/// bare <see cref="LedgerStateMachine"/>, and the orders they apply.
/// </summary>
/// <remarks>
/// The accounts and funding are <see cref="ChannelFixture"/>'s (a bank, a payer funded with 2 × 10^12, a payee, ledger 1);
/// the payer's key (<see cref="ChannelFixture.PayerKey"/>) is registered to the payer as its device key. Every order
/// pays 1 from the payer to the payee, which every policy here allows: the benchmarks measure the success path.
/// </remarks>
public static class OrderFixture
{
    /// <summary>What every order pays.</summary>
    public static readonly UInt128 Amount = 1;

    /// <summary>
    /// The device key's policy: at most 1,000 per payment, a co-signature above 1,000, the payee and ledger 1 only, and
    /// at most <paramref name="windowLimit"/> within any <paramref name="windowLength"/> nanoseconds of ledger time.
    /// </summary>
    /// <param name="windowLength">The rolling window, in nanoseconds of ledger time.</param>
    /// <param name="windowLimit">The most the key may spend within it.</param>
    /// <returns>The policy.</returns>
    public static SpendingPolicy Policy(ulong windowLength, UInt128 windowLimit) => new()
    {
        MaxPerPayment = 1_000,
        StepUpThreshold = 1_000,
        WindowLength = windowLength,
        WindowLimit = windowLimit,
        AllowedPayees = [ChannelFixture.Payee],
        AllowedLedgers = [1],
    };

    /// <summary>Creates the accounts, funds the payer and registers <paramref name="deviceKey"/> to it, through the engine.</summary>
    /// <param name="engine">A new engine.</param>
    /// <param name="deviceKey">The payer's key.</param>
    /// <param name="policy">Its policy.</param>
    public static void SetUpEngine(LedgerEngine engine, SigningKey deviceKey, SpendingPolicy policy)
    {
        Account[] accounts = ChannelFixture.Accounts();
        if (engine.CreateAccountsAsync(accounts, new CreateAccountResult[accounts.Length]).AsTask().GetAwaiter().GetResult() != 0 ||
            engine.CreateTransferAsync(ChannelFixture.Funding()).AsTask().GetAwaiter().GetResult() != CreateTransferResult.Ok)
        {
            throw new InvalidOperationException("The engine refused the benchmark's accounts or funding.");
        }

        KeyResult registered = engine.RegisterKeyAsync(ChannelFixture.Payer, deviceKey.VerificationKey, policy).AsTask().GetAwaiter().GetResult();
        if (registered != KeyResult.Ok)
        {
            throw new InvalidOperationException($"The engine refused the benchmark's device key: {registered}.");
        }
    }

    /// <summary>
    /// Gives a bare ledger an instance id, the accounts and the funding, and registers <paramref name="deviceKey"/> through
    /// the engine's own operation description (the writer thread's path, as the journal's replay applies it).
    /// </summary>
    /// <param name="ledger">A new ledger.</param>
    /// <param name="instanceId">The instance id to give it.</param>
    /// <param name="deviceKey">The payer's key.</param>
    /// <param name="policy">Its policy.</param>
    public static void SetUpLedger(LedgerStateMachine ledger, UInt128 instanceId, SigningKey deviceKey, SpendingPolicy policy)
    {
        Account[] accounts = ChannelFixture.Accounts();
        if (ledger.SetInstanceId(1, instanceId) != InstanceIdResult.Ok ||
            ledger.CreateAccounts(2, accounts, new CreateAccountResult[accounts.Length]) != 0 ||
            ledger.CreateTransfer(3, ChannelFixture.Funding()) != CreateTransferResult.Ok)
        {
            throw new InvalidOperationException("The ledger refused the benchmark's instance id, accounts or funding.");
        }

        var results = new KeyResult[1];
        OperationRegistry.ManageKeys.Apply(ledger, 4, [KeyOperation.RegisterEd25519(ChannelFixture.Payer, deviceKey.VerificationKey, policy)], results);
        if (results[0] != KeyResult.Ok)
        {
            throw new InvalidOperationException($"The ledger refused the benchmark's device key: {results[0]}.");
        }
    }

    /// <summary>
    /// Signs orders with ids <paramref name="firstId"/> .. <paramref name="firstId"/> + count − 1 into
    /// <paramref name="destination"/>, on every core: each pays <see cref="Amount"/> from the payer to the payee, valid forever.
    /// </summary>
    /// <param name="deviceKey">The payer's registered key.</param>
    /// <param name="instanceId">The ledger instance.</param>
    /// <param name="firstId">The first order's id (the ids continue from it; below the reserved range).</param>
    /// <param name="destination">Receives the orders.</param>
    public static void SignOrders(SigningKey deviceKey, UInt128 instanceId, UInt128 firstId, PaymentOrder[] destination)
    {
        Parallel.For(0, destination.Length, i =>
        {
            Transfer payment = ChannelFixture.Payment(firstId + (UInt128)(ulong)i);
            destination[i] = PaymentOrder.Sign(deviceKey, instanceId, payment, validUntil: ulong.MaxValue);
        });
    }

    /// <summary>Plain transfers with ids <paramref name="firstId"/> .. <paramref name="firstId"/> + count − 1, paying as the orders do.</summary>
    /// <param name="firstId">The first transfer's id.</param>
    /// <param name="destination">Receives the transfers.</param>
    public static void Payments(UInt128 firstId, Span<Transfer> destination)
    {
        for (int i = 0; i < destination.Length; i++)
        {
            destination[i] = ChannelFixture.Payment(firstId + (UInt128)(ulong)i);
        }
    }
}
