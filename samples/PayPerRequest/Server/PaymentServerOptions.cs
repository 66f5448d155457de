using Micropay.Core.Engine;

namespace PayPerRequest.Server;

/// <summary>How <see cref="PaymentServer.StartAsync"/> sets up the server, its ledger and its price.</summary>
public sealed class PaymentServerOptions
{
    /// <summary>What one request costs, in the ledger's smallest unit (millicents here, as in the other samples); 5 by default.</summary>
    public ulong Price { get; init; } = 5;

    /// <summary>The ledger (currency) of the price: 978 (EUR) by default.</summary>
    public uint LedgerId { get; init; } = 978;

    /// <summary>The account the server's income goes to.</summary>
    public UInt128 PayeeAccountId { get; init; } = 3001;

    /// <summary>The account that funds the payers the server provisions (<see cref="PaymentServer.CreatePayerAsync"/>).</summary>
    public UInt128 BankAccountId { get; init; } = 1001;

    /// <summary>
    /// Where the ledger's journal lives (a <c>FileLedgerStore</c>), or null (the default) for an in-memory ledger that
    /// keeps nothing after the process. The caller owns the directory.
    /// </summary>
    public string? StoreDirectory { get; init; }

    /// <summary>With <see cref="StoreDirectory"/>: when results are released (<see cref="DurabilityMode.Durable"/> by default).</summary>
    public DurabilityMode Durability { get; init; } = DurabilityMode.Durable;

    /// <summary>The port on 127.0.0.1; 0 (the default) picks a free one (see <see cref="PaymentServer.BaseAddress"/>).</summary>
    public int Port { get; init; }

    /// <summary>Time between the redeemer's passes; 200 ms by default.</summary>
    public TimeSpan RedeemInterval { get; init; } = TimeSpan.FromMilliseconds(200);

    /// <summary>Voucher lanes kept per channel; 64 by default.</summary>
    public int MaxLanes { get; init; } = 64;

    /// <summary>The most units one tick may pay; 64 by default.</summary>
    public uint MaxTickUnits { get; init; } = 64;

    /// <summary>How long before a channel's expiry the server stops accepting its payments (time to redeem); 5 minutes by default.</summary>
    public TimeSpan RedeemMargin { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>The shortest channel lifetime accepted at open; 10 minutes by default (more than <see cref="RedeemMargin"/>).</summary>
    public TimeSpan MinChannelLifetime { get; init; } = TimeSpan.FromMinutes(10);

    /// <summary>Also serve the paid endpoints' handler without payment at <c>/unpaid/weather</c> (the load harness's baseline).</summary>
    public bool MapUnpaidTwin { get; init; }

    /// <summary>The clock of the ledger and the gate; the system's by default.</summary>
    public TimeProvider TimeProvider { get; init; } = TimeProvider.System;
}
