using System.Collections.Concurrent;
using Micropay.Core.Crypto;
using Micropay.Core.Identity;

namespace Micropay.Core.Engine;

// Identity: the key registry and signed payment orders. Every signature and co-signature is checked here, on the
// caller's thread, before the event is queued; the writer applies only the deterministic rules (IdentityBook): the key's
// state, the order's expiry, the policy, a passkey's counter.
public sealed partial class LedgerEngine
{
    // Every key the writer has registered (or recovered), by id: written by the writer thread when a registration
    // applies, read by any caller to verify orders and co-signatures. Only a key's immutable members (id, account, public
    // key or credential) are read here; its status and policy are the writer's. A registration applied but not yet
    // released is already here: an order verified against it is queued after it, so it can never be applied before it.
    private readonly ConcurrentDictionary<UInt128, KeyState> _registeredKeys = new();

    // The registry's state: the writer's (IdentityBook, writer thread only) and the released copy readers see.
    private IdentityBook _identityBook = null!;
    private readonly PublishedKeys _publishedKeys = new();

    /// <summary>
    /// Registers, re-policies or revokes a key (<see cref="KeyOperation"/>). A revocation applies from the next batch:
    /// nothing the key signed is applied after it, and every open channel funded under it starts its unilateral close.
    /// Completes once the batch is released.
    /// </summary>
    /// <param name="operation">The operation.</param>
    /// <param name="cancellationToken">Honoured until the engine accepts the event.</param>
    /// <returns>
    /// The result, in the order checked: for a registration <see cref="KeyResult.WeakPublicKey"/> (at the edge: the
    /// operation is not queued), <see cref="KeyResult.KeyRevoked"/>, <see cref="KeyResult.Exists"/>,
    /// <see cref="KeyResult.ExistsWithDifferentAccount"/>, <see cref="KeyResult.ExistsWithDifferentPolicy"/>,
    /// <see cref="KeyResult.AccountNotFound"/>, <see cref="KeyResult.AccountClosed"/>; for an update or revocation
    /// <see cref="KeyResult.KeyNotFound"/>, then <see cref="KeyResult.KeyRevoked"/> or <see cref="KeyResult.AlreadyRevoked"/>.
    /// </returns>
    /// <exception cref="ArgumentException"><paramref name="operation"/> is a default value.</exception>
    public ValueTask<KeyResult> ManageKeyAsync(KeyOperation operation, CancellationToken cancellationToken = default)
    {
        if (operation.Kind == 0)
        {
            throw new ArgumentException("The operation is a default value; use KeyOperation's factories.", nameof(operation));
        }

        return IsWeakRegistration(operation) ? new ValueTask<KeyResult>(KeyResult.WeakPublicKey)
            : SubmitOne(OperationRegistry.ManageKeys, operation, cancellationToken);
    }

    /// <summary>Applies a batch of key operations in one ledger batch (each as <see cref="ManageKeyAsync"/>, checked at the edge first).</summary>
    /// <param name="operations">The operations (at most <see cref="LedgerEngineOptions.MaxBatchSize"/>).</param>
    /// <param name="results">Receives one result per operation.</param>
    /// <param name="cancellationToken">Honoured until the engine accepts the batch.</param>
    /// <returns>The number of operations not applied.</returns>
    /// <exception cref="ArgumentException">The batch is empty, too large, holds a default value, or <paramref name="results"/> is too short.</exception>
    public ValueTask<int> ManageKeysAsync(ReadOnlyMemory<KeyOperation> operations, Memory<KeyResult> results, CancellationToken cancellationToken = default)
    {
        CheckBatch(operations.Length, results.Length, nameof(operations), nameof(results));
        int refused = 0;
        for (int i = 0; i < operations.Length; i++)
        {
            if (operations.Span[i].Kind == 0)
            {
                throw new ArgumentException($"Operation {i} is a default value; use KeyOperation's factories.", nameof(operations));
            }

            bool weak = IsWeakRegistration(operations.Span[i]);
            results.Span[i] = weak ? KeyResult.WeakPublicKey : KeyResult.Ok;
            refused += weak ? 1 : 0;
        }

        return SubmitChecked(OperationRegistry.ManageKeys, operations, results, refused, nameof(operations), cancellationToken);
    }

    // The edge's one check of a key operation: a registered Ed25519 key must be one a signature can verify under. The
    // registry never sees the others, so a journal written before this check replays as it did.
    private static bool IsWeakRegistration(in KeyOperation operation) =>
        operation.Kind == KeyOperationKind.Register && operation.Ed25519Key is { } key && !Ed25519PublicKeyCheck.IsStrict(key.AsSpan());

    /// <summary>Registers an Ed25519 key (a device's) to an account with a spending policy (<see cref="ManageKeyAsync"/>).</summary>
    /// <param name="accountId">The account.</param>
    /// <param name="key">The key.</param>
    /// <param name="policy">What it may spend.</param>
    /// <param name="cancellationToken">Honoured until the engine accepts the event.</param>
    /// <returns>The result.</returns>
    public ValueTask<KeyResult> RegisterKeyAsync(UInt128 accountId, VerificationKey key, SpendingPolicy policy, CancellationToken cancellationToken = default) =>
        ManageKeyAsync(KeyOperation.RegisterEd25519(accountId, key, policy), cancellationToken);

    /// <summary>Registers a passkey credential to an account, to co-sign its payments (<see cref="ManageKeyAsync"/>).</summary>
    /// <param name="accountId">The account.</param>
    /// <param name="credential">The credential.</param>
    /// <param name="policy">Its policy (its validity times apply to its co-signatures).</param>
    /// <param name="cancellationToken">Honoured until the engine accepts the event.</param>
    /// <returns>The result.</returns>
    public ValueTask<KeyResult> RegisterPasskeyAsync(UInt128 accountId, PasskeyCredential credential, SpendingPolicy policy, CancellationToken cancellationToken = default) =>
        ManageKeyAsync(KeyOperation.RegisterPasskey(accountId, credential, policy), cancellationToken);

    /// <summary>Replaces a key's policy (<see cref="ManageKeyAsync"/>).</summary>
    /// <param name="keyId">The key.</param>
    /// <param name="policy">The new policy.</param>
    /// <param name="cancellationToken">Honoured until the engine accepts the event.</param>
    /// <returns>The result.</returns>
    public ValueTask<KeyResult> UpdateKeyPolicyAsync(UInt128 keyId, SpendingPolicy policy, CancellationToken cancellationToken = default) =>
        ManageKeyAsync(KeyOperation.UpdatePolicy(keyId, policy), cancellationToken);

    /// <summary>Revokes a key for good (<see cref="ManageKeyAsync"/>).</summary>
    /// <param name="keyId">The key.</param>
    /// <param name="cancellationToken">Honoured until the engine accepts the event.</param>
    /// <returns>The result.</returns>
    public ValueTask<KeyResult> RevokeKeyAsync(UInt128 keyId, CancellationToken cancellationToken = default) =>
        ManageKeyAsync(KeyOperation.Revoke(keyId), cancellationToken);

    /// <summary>
    /// Applies a signed payment order: creates its transfer if its key is the debit account's, active, and its policy
    /// allows the payment. The signature (and a co-signature) is verified first, on the caller's thread. Completes once
    /// the batch is released.
    /// </summary>
    /// <param name="order">The order.</param>
    /// <param name="cancellationToken">Honoured until the engine accepts the event.</param>
    /// <returns>
    /// The result. Before queueing: <see cref="OrderResult.KeyNotFound"/>, <see cref="OrderResult.WrongKeyKind"/>,
    /// <see cref="OrderResult.BadSignature"/>, <see cref="OrderResult.CoSignerNotFound"/>,
    /// <see cref="OrderResult.CoSignerIsSigner"/>, <see cref="OrderResult.BadCoSignature"/>. Then the ledger's checks in
    /// the order <see cref="OrderResult"/> documents.
    /// </returns>
    public ValueTask<OrderResult> ExecuteOrderAsync(PaymentOrder order, CancellationToken cancellationToken = default)
    {
        OrderResult checkedAtEdge = VerifyOrder(order);
        return checkedAtEdge != OrderResult.Ok ? new ValueTask<OrderResult>(checkedAtEdge)
            : order.CoSignature is null ? SubmitOne(OperationRegistry.ExecuteOrders, order, cancellationToken)
            : SubmitOne(OperationRegistry.ExecuteCoSignedOrders, order, cancellationToken);
    }

    /// <summary>
    /// Applies a batch of payment orders in one ledger batch (each as <see cref="ExecuteOrderAsync"/>). The signatures are
    /// verified first, on every core when the batch is large; orders that fail there get their result without being queued.
    /// </summary>
    /// <param name="orders">The orders (at most <see cref="LedgerEngineOptions.MaxBatchSize"/>).</param>
    /// <param name="results">Receives one result per order.</param>
    /// <param name="cancellationToken">Honoured until the engine accepts the batch.</param>
    /// <returns>The number of orders not applied.</returns>
    /// <exception cref="ArgumentException">The batch is empty, too large, or <paramref name="results"/> is too short.</exception>
    public ValueTask<int> ExecuteOrdersAsync(ReadOnlyMemory<PaymentOrder> orders, Memory<OrderResult> results, CancellationToken cancellationToken = default)
    {
        CheckBatch(orders.Length, results.Length, nameof(orders), nameof(results));
        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled<int>(cancellationToken);
        }

        int refused = VerifyOrders(orders, results, out bool coSigned);

        // One co-signed order makes the whole batch use the larger record (the others' co-signature part stays zero).
        return SubmitChecked(coSigned ? OperationRegistry.ExecuteCoSignedOrders : OperationRegistry.ExecuteOrders, orders, results, refused, nameof(orders), cancellationToken);
    }

    /// <summary>Reads a registered key as of released batches (lock-free): its account, status, policy and window spending.</summary>
    /// <param name="keyId">The key's id (<see cref="KeyIds"/>).</param>
    /// <param name="key">The key, when found.</param>
    /// <returns>Whether the key's registration was released.</returns>
    public bool TryGetKey(UInt128 keyId, out KeyInfo key) => _publishedKeys.TryGet(keyId, out key);

    /// <summary>Learns the keys a recovered ledger holds, and every key it registers from now on (constructor).</summary>
    private void TrackRegisteredKeys()
    {
        IdentityBook book = IdentityBook.Of(_ledger);
        foreach (KeyState key in book.All)
        {
            _registeredKeys[key.KeyId] = key;
            _publishedKeys.AddRecovered(new KeyChange(key.KeyId, key.AccountId, key.Kind, key.Status, key.Policy, key.Window.Sum, key.ChangedAt));
        }

        book.KeyAdded = key => _registeredKeys[key.KeyId] = key;
        _identityBook = book;
    }

    /// <summary>
    /// Verifies every order, writing each one's edge result (Ok for those that pass); returns how many were refused and
    /// whether any carries a co-signature.
    /// </summary>
    /// <remarks>Internal, not private, so the benchmarks can measure the edge alone.</remarks>
    internal int VerifyOrders(ReadOnlyMemory<PaymentOrder> orders, Memory<OrderResult> results, out bool coSigned)
    {
        coSigned = false;
        ReadOnlySpan<PaymentOrder> span = orders.Span;
        for (int i = 0; i < span.Length; i++)
        {
            coSigned |= span[i].CoSignature is not null;
        }

        if (orders.Length < ParallelVerifyThreshold || Environment.ProcessorCount == 1)
        {
            int refused = 0;
            Span<OrderResult> r = results.Span;
            for (int i = 0; i < span.Length; i++)
            {
                r[i] = VerifyOrder(span[i]);
                refused += r[i] == OrderResult.Ok ? 0 : 1;
            }

            return refused;
        }

        return OrderBatchVerifier.Verify(this, orders, results);
    }

    /// <summary>The edge's checks of one order (<see cref="EdgeVerification.VerifyOrder"/>) against the keys the writer has registered.</summary>
    private OrderResult VerifyOrder(in PaymentOrder order) => EdgeVerification.VerifyOrder(order, _instanceId, new ConcurrentKeyLookup(_registeredKeys));

    /// <summary>
    /// Verifies a batch of orders on every core, in contiguous slices (one per core). Apart from its caller, so the
    /// closure the lambda captures is allocated only on this path (one per batch, like Parallel.For's own), never for a
    /// small batch verified on the calling thread.
    /// </summary>
    private static class OrderBatchVerifier
    {
        public static int Verify(LedgerEngine engine, ReadOnlyMemory<PaymentOrder> orders, Memory<OrderResult> results)
        {
            int total = 0;
            int slices = Math.Min(Environment.ProcessorCount, orders.Length);
            Parallel.For(0, slices, () => 0, (slice, _, local) =>
            {
                ReadOnlySpan<PaymentOrder> o = orders.Span;
                Span<OrderResult> r = results.Span;
                int from = (int)((long)o.Length * slice / slices);
                int to = (int)((long)o.Length * (slice + 1) / slices);
                for (int i = from; i < to; i++)
                {
                    r[i] = engine.VerifyOrder(o[i]);
                    local += r[i] == OrderResult.Ok ? 0 : 1;
                }

                return local;
            },
            local => Interlocked.Add(ref total, local));
            return total;
        }
    }
}
