using Micropay.Core.Channels;
using Micropay.Core.Crypto;
using Micropay.Core.Ledger;

namespace Micropay.Core.Identity;

/// <summary>
/// The key registry of one ledger and the deterministic rules that use it: registering, re-policying and revoking keys,
/// applying signed payment orders, and authorising channel opens and top-ups funded under a registered key. Applied on
/// the writer thread, replayed on recovery, kept in snapshots (the "identity" section).
/// </summary>
/// <remarks>
/// <para>
/// No signature is checked here: the engine verified every order's signature and co-signature at its edge, on the
/// caller's core, before queueing it. What needs the ledger's state is checked here, with the ledger's clock: the key is
/// registered, the debit account's, not revoked (a revocation applied in an earlier batch refuses everything after),
/// the policy allows the payment, and a passkey co-signer's counter moved on.
/// </para>
/// <para>
/// Accounts with keys are governed by them: once an account has a registered key, a channel may be opened or topped up
/// from it only under one of its registered keys. An account with no key stays as before (any channel payer key).
/// </para>
/// </remarks>
internal sealed partial class IdentityBook : LedgerExtension
{
    // Writer thread only, like the ledger.
    private readonly Dictionary<UInt128, KeyState> _keys = [];
    private readonly List<KeyState> _byIndex = [];
    private readonly Dictionary<UInt128, int> _keysPerAccount = [];

    // The current order batch, as the ledger's gated batch reads it (writer thread only; reused from batch to batch).
    private Transfer[] _transfers = [];
    private PaymentOrder[] _orders = [];

    private IdentityBook(LedgerStateMachine ledger)
        : base(ledger)
    {
    }

    /// <summary>The keys ever registered, in registration order.</summary>
    public IReadOnlyList<KeyState> All => _byIndex;

    /// <summary>Called on the writer thread when a key becomes known (registration applied, snapshot read): the engine's edge learns it.</summary>
    public Action<KeyState>? KeyAdded { get; set; }

    /// <summary>When set (by the engine, per batch), every change of a key is logged for publication. Null for a plain ledger.</summary>
    public KeyChangeLog? Changes { get; set; }

    /// <summary>The ledger's key registry, created with its first key.</summary>
    public static IdentityBook Of(LedgerStateMachine ledger) => ledger.GetOrAddExtension(LedgerExtension.IdentitySlot, static l => new IdentityBook(l));

    /// <summary>The ledger's key registry, or null when it never had a key.</summary>
    public static IdentityBook? Find(LedgerStateMachine ledger) => (IdentityBook?)ledger.GetExtension(LedgerExtension.IdentitySlot);

    /// <summary>The key with this id, if any.</summary>
    public bool TryGet(UInt128 keyId, out KeyState key) => _keys.TryGetValue(keyId, out key!);

    /// <inheritdoc />
    public override bool TryPeekNextDeadline(out ulong at)
    {
        // Keys have no deadlines: validity times and windows are checked when a payment comes.
        at = 0;
        return false;
    }

    /// <inheritdoc />
    public override ulong FireDue(ulong now, ulong nextTimestamp) => nextTimestamp;

    /// <summary>Applies a registry change at <paramref name="timestamp"/>.</summary>
    public KeyResult Apply(in KeyOperation operation, ulong timestamp)
    {
        switch (operation.Kind)
        {
            case KeyOperationKind.Register:
                return Register(operation, timestamp);
            case KeyOperationKind.UpdatePolicy:
            {
                if (!_keys.TryGetValue(operation.KeyId, out KeyState? key))
                {
                    return KeyResult.KeyNotFound;
                }

                if (key.Status == KeyStatus.Revoked)
                {
                    return KeyResult.KeyRevoked;
                }

                // The window first drops what left it under the old length at this time, so what a longer window counts
                // from now on is exactly the payments of the old window (never one that an earlier check happened to
                // drop or keep); a policy without a window forgets them.
                SettleWindow(key, timestamp);
                key.Policy = operation.Policy!;
                if (key.Policy.WindowLength == 0)
                {
                    key.Window.Clear();
                }

                Log(key, timestamp);
                return KeyResult.Ok;
            }

            case KeyOperationKind.Revoke:
            {
                if (!_keys.TryGetValue(operation.KeyId, out KeyState? key))
                {
                    return KeyResult.KeyNotFound;
                }

                if (key.Status == KeyStatus.Revoked)
                {
                    return KeyResult.AlreadyRevoked;
                }

                key.Status = KeyStatus.Revoked;
                key.RevokedAt = timestamp;
                SettleWindow(key, timestamp);
                Log(key, timestamp);

                // What the key already signed into open channels stays redeemable for the settle delay; nothing new can
                // be funded under it (the checks below refuse a revoked key from the next batch on).
                if (key.Ed25519 is { } payerKey && ChannelBook.Find(Ledger) is { } channels)
                {
                    channels.BeginCloseOfChannelsFundedBy(key.AccountId, payerKey, timestamp);
                }

                return KeyResult.Ok;
            }

            default:
                throw new InvalidOperationException($"A key operation of kind {operation.Kind} reached the ledger; the format refuses it.");
        }
    }

    /// <summary>
    /// Applies a batch of payment orders at <paramref name="timestamp"/> (their signatures were checked at the edge), as
    /// one gated transfer batch: the ledger's look-ahead pipeline runs over the orders' transfers, and before each one the
    /// key's checks decide whether it may go on (<see cref="OrderGate"/>).
    /// </summary>
    /// <returns>The number of orders not applied.</returns>
    public int Execute(ulong timestamp, ReadOnlySpan<PaymentOrder> orders, Span<OrderResult> results)
    {
        if (_transfers.Length < orders.Length)
        {
            // Grown to the largest batch once, then reused: the steady path allocates nothing.
            _transfers = new Transfer[orders.Length];
            _orders = new PaymentOrder[orders.Length];
        }

        for (int i = 0; i < orders.Length; i++)
        {
            _orders[i] = orders[i];
            _transfers[i] = orders[i].ToTransfer();
        }

        var gate = new OrderGate(this);
        try
        {
            return Ledger.CreateGatedTransfers(timestamp, _transfers.AsSpan(0, orders.Length), results, ref gate);
        }
        finally
        {
            // The orders hold co-signatures: not kept alive past the batch.
            _orders.AsSpan(0, orders.Length).Clear();
        }
    }

    /// <summary>
    /// Whether the payer key of <paramref name="config"/> may move <paramref name="amount"/> into the channel (an open,
    /// or a top-up bringing its deposits to <paramref name="depositAfter"/>). <paramref name="key"/> is null when the
    /// payer account has no keys (the channel is not governed); otherwise pass it to <see cref="Commit"/> once the money moved.
    /// </summary>
    public ChannelResult AuthorizeChannel(ChannelConfig config, UInt128 amount, UInt128 depositAfter, CoSignature? coSignature, ulong timestamp, out KeyState? key, out KeyState? coSigner)
    {
        coSigner = null;
        if (!_keys.TryGetValue(config.PayerKeyId, out key))
        {
            return _keysPerAccount.ContainsKey(config.PayerAccountId) ? ChannelResult.KeyNotFound : ChannelResult.Ok;
        }

        if (key.Status == KeyStatus.Revoked)
        {
            return ChannelResult.KeyRevoked;
        }

        if (key.AccountId != config.PayerAccountId)
        {
            return ChannelResult.KeyNotOwner;
        }

        OrderResult allowed = CheckPolicy(key, config.PayeeAccountId, config.LedgerId, amount, coSignature, timestamp, out coSigner);
        if (allowed != OrderResult.Ok)
        {
            return ToChannelResult(allowed);
        }

        return depositAfter > key.Policy.MaxChannelDeposit ? ChannelResult.OverChannelDepositLimit : ChannelResult.Ok;
    }

    /// <summary>Records an authorised payment: it counts in the key's window; a passkey co-signer's counter moves on.</summary>
    public void Commit(KeyState key, UInt128 amount, CoSignature? coSignature, KeyState? coSigner, ulong timestamp)
    {
        if (key.Policy.WindowLength != 0)
        {
            key.Window.Evict(timestamp, key.Policy.WindowLength);
            key.Window.Add(timestamp, amount);
        }

        Log(key, timestamp);
        if (coSigner is not null && coSignature is not null && coSigner.Kind == KeyKind.Passkey)
        {
            coSigner.SignCount = coSignature.SignCount;
        }
    }

    private KeyResult Register(in KeyOperation operation, ulong timestamp)
    {
        if (_keys.TryGetValue(operation.KeyId, out KeyState? existing))
        {
            return existing.Status == KeyStatus.Revoked ? KeyResult.KeyRevoked
                : existing.AccountId != operation.AccountId ? KeyResult.ExistsWithDifferentAccount
                : existing.Policy.Equals(operation.Policy) ? KeyResult.Exists
                : KeyResult.ExistsWithDifferentPolicy;
        }

        if (!Ledger.TryGetAccount(operation.AccountId, out Account account))
        {
            return KeyResult.AccountNotFound;
        }

        if ((account.Flags & AccountFlags.Closed) != 0)
        {
            return KeyResult.AccountClosed;
        }

        var key = new KeyState(operation.KeyId, operation.AccountId, operation.Ed25519Key, operation.Passkey, operation.Policy!, _byIndex.Count, timestamp);
        Add(key);
        Log(key, timestamp);
        return KeyResult.Ok;
    }

    /// <summary>Drops the payments that left the key's window by <paramref name="now"/> (under its current length).</summary>
    private static void SettleWindow(KeyState key, ulong now)
    {
        if (key.Policy.WindowLength != 0)
        {
            key.Window.Evict(now, key.Policy.WindowLength);
        }
    }

    /// <summary>Records that the key changed at <paramref name="at"/> (its window settled there), and logs it for publication.</summary>
    private void Log(KeyState key, ulong at)
    {
        key.ChangedAt = at;
        Changes?.Add(key);
    }

    private void Add(KeyState key)
    {
        _keys.Add(key.KeyId, key);
        _byIndex.Add(key);
        _keysPerAccount[key.AccountId] = _keysPerAccount.GetValueOrDefault(key.AccountId) + 1;
        KeyAdded?.Invoke(key);
    }

    /// <summary>The policy's checks of one payment by an active key of the payer, in the documented order; changes nothing.</summary>
    private OrderResult CheckPolicy(KeyState key, UInt128 payee, uint ledgerId, UInt128 amount, CoSignature? coSignature, ulong timestamp, out KeyState? coSigner)
    {
        coSigner = null;
        SpendingPolicy policy = key.Policy;
        if (timestamp < policy.ValidFrom)
        {
            return OrderResult.KeyNotYetValid;
        }

        if (timestamp > policy.ValidUntil)
        {
            return OrderResult.KeyExpired;
        }

        if (!policy.AllowsLedger(ledgerId))
        {
            return OrderResult.LedgerNotAllowed;
        }

        if (!policy.AllowsPayee(payee))
        {
            return OrderResult.PayeeNotAllowed;
        }

        if (amount > policy.MaxPerPayment)
        {
            return OrderResult.OverPaymentLimit;
        }

        if (policy.WindowLength != 0 && !key.Window.Fits(timestamp, policy.WindowLength, amount, policy.WindowLimit))
        {
            return OrderResult.OverWindowLimit;
        }

        if (coSignature is null)
        {
            return amount > policy.StepUpThreshold ? OrderResult.StepUpRequired : OrderResult.Ok;
        }

        // A co-signature that comes with a payment is checked even below the threshold: a bad one is never ignored.
        return CheckCoSigner(key, coSignature, timestamp, out coSigner);
    }

    private OrderResult CheckCoSigner(KeyState key, CoSignature coSignature, ulong timestamp, out KeyState? coSigner)
    {
        if (!_keys.TryGetValue(coSignature.KeyId, out coSigner))
        {
            return OrderResult.CoSignerNotFound;
        }

        if (ReferenceEquals(coSigner, key))
        {
            return OrderResult.CoSignerIsSigner;
        }

        if (coSigner.AccountId != key.AccountId)
        {
            return OrderResult.CoSignerNotOwner;
        }

        if (coSigner.Status == KeyStatus.Revoked)
        {
            return OrderResult.CoSignerRevoked;
        }

        if (timestamp < coSigner.Policy.ValidFrom || timestamp > coSigner.Policy.ValidUntil)
        {
            return OrderResult.CoSignerNotValid;
        }

        if (coSigner.Kind != coSignature.Kind)
        {
            // The edge verified the co-signature with this key, so the kinds agree; a journal that says otherwise was not written by the edge.
            return OrderResult.BadCoSignature;
        }

        if (coSigner.Kind == KeyKind.Passkey && !PasskeyCredential.IsSignCountAcceptable(coSigner.SignCount, coSignature.SignCount))
        {
            return OrderResult.SignCountNotIncreasing;
        }

        return OrderResult.Ok;
    }

    /// <summary>
    /// The key's checks of order <c>i</c> of the current batch, in the order <see cref="OrderResult"/> documents, for the
    /// ledger's gated batch (which answers a taken id itself, before asking); and what an applied order changes.
    /// </summary>
    private struct OrderGate(IdentityBook book) : ITransferGate<OrderResult>
    {
        // The key and co-signer found by Check, for Applied of the same order (the batch calls them in turn).
        private KeyState? _key;
        private KeyState? _coSigner;

        public static OrderResult FromLedger(CreateTransferResult result) => result == CreateTransferResult.Ok ? OrderResult.Ok : (OrderResult)(100 + (uint)result);

        public OrderResult Check(int i, ulong timestamp)
        {
            ref readonly PaymentOrder order = ref book._orders[i];
            _key = null;
            _coSigner = null;
            if (!book._keys.TryGetValue(order.KeyId, out KeyState? key))
            {
                return OrderResult.KeyNotFound;
            }

            if (key.Kind != KeyKind.Ed25519)
            {
                return OrderResult.WrongKeyKind;
            }

            if (key.Status == KeyStatus.Revoked)
            {
                return OrderResult.KeyRevoked;
            }

            if (key.AccountId != order.DebitAccountId)
            {
                return OrderResult.KeyNotOwner;
            }

            if (timestamp > order.ValidUntil)
            {
                return OrderResult.OrderExpired;
            }

            OrderResult allowed = book.CheckPolicy(key, order.CreditAccountId, order.LedgerId, order.Amount, order.CoSignature, timestamp, out _coSigner);
            _key = allowed == OrderResult.Ok ? key : null;
            return allowed;
        }

        public readonly void Applied(int i, ulong timestamp)
        {
            ref readonly PaymentOrder order = ref book._orders[i];
            book.Commit(_key!, order.Amount, order.CoSignature, _coSigner, timestamp);
        }
    }

    /// <summary>A policy refusal as a channel result (the same names).</summary>
    private static ChannelResult ToChannelResult(OrderResult result) => result switch
    {
        OrderResult.KeyNotYetValid => ChannelResult.KeyNotYetValid,
        OrderResult.KeyExpired => ChannelResult.KeyExpired,
        OrderResult.LedgerNotAllowed => ChannelResult.LedgerNotAllowed,
        OrderResult.PayeeNotAllowed => ChannelResult.PayeeNotAllowed,
        OrderResult.OverPaymentLimit => ChannelResult.OverPaymentLimit,
        OrderResult.OverWindowLimit => ChannelResult.OverWindowLimit,
        OrderResult.StepUpRequired => ChannelResult.StepUpRequired,
        OrderResult.BadCoSignature => ChannelResult.BadCoSignature,
        OrderResult.CoSignerNotFound => ChannelResult.CoSignerNotFound,
        OrderResult.CoSignerRevoked => ChannelResult.CoSignerRevoked,
        OrderResult.CoSignerNotOwner => ChannelResult.CoSignerNotOwner,
        OrderResult.CoSignerIsSigner => ChannelResult.CoSignerIsSigner,
        OrderResult.CoSignerNotValid => ChannelResult.CoSignerNotValid,
        OrderResult.SignCountNotIncreasing => ChannelResult.SignCountNotIncreasing,
        _ => throw new InvalidOperationException($"The policy check returned {result}, which has no channel result."),
    };
}
