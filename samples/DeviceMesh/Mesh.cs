using System.Diagnostics;
using Micropay.Core.Audit;
using Micropay.Core.Channels;
using Micropay.Core.Crypto;
using Micropay.Core.Engine;
using Micropay.Core.Identity;
using Micropay.Core.Ledger;
using Micropay.Core.Storage;

namespace DeviceMesh;

/// <summary>
/// The whole run: a ledger on the embedded file store with its audit log, devices with their own keys and policies,
/// services, and the channels between them. Payments happen off the ledger (a device signs, the payee verifies with the
/// channel's certificate and nothing else); the ledger sees only channel opens, periodic redemptions, a revocation, one
/// co-signed order and the closes. Every outcome is checked: an unexpected one throws <see cref="UnexpectedResultException"/>.
/// </summary>
internal sealed class Mesh : IAsyncDisposable
{
    /// <summary>Ticks in each device's hash chain (the most it can pay a metered service by ticks).</summary>
    public const uint ChainLength = 4_096;

    private const uint Eur = 978;
    private const ulong Minute = 60UL * 1_000_000_000UL; // the ledger's clock counts nanoseconds since the Unix epoch
    private const ulong Day = 24 * 60 * Minute;
    private static readonly UInt128 BankId = 1;
    private static readonly UInt128 Funds = 2_000_000;          // 20.00 EUR on each device (amounts in millicents)
    private static readonly UInt128 ServiceDeposit = 90_000;    // 0.90 EUR in the voucher channel to a service
    private static readonly UInt128 PeerDeposit = 50_000;       // 0.50 EUR in the voucher channel to a peer device
    private static readonly UInt128 TickPrice = 10;             // 0.0001 EUR per tick of metered service
    private static readonly UInt128 Purchase = 500_000;         // 5.00 EUR: above the step-up threshold

    private readonly MeshOptions _options;
    private readonly string _directory;
    private readonly bool _ownsDirectory;
    private readonly SigningKey _operatorKey;
    private readonly SigningKey _ownerKey;
    private readonly Device[] _devices;
    private readonly MeshStats _stats = new();
    private LedgerEngine? _engine;
    private NoteVerifierKey? _ledgerKey;
    private UInt128 _purchaseId;

    public Mesh(MeshOptions options)
    {
        _options = options;
        _ownsDirectory = options.DataDirectory is null;
        _directory = options.DataDirectory ?? Path.Combine(Path.GetTempPath(), "micropay-devicemesh-" + Guid.NewGuid().ToString("N"));
        var random = new Random(options.Seed);
        _operatorKey = KeyFrom(random);
        _ownerKey = KeyFrom(random);
        _devices = new Device[options.Devices];
        for (int d = 0; d < _devices.Length; d++)
        {
            _devices[d] = new Device(d, KeyFrom(random), random.Next());
        }

        // Chosen by the seed too: the device that is stolen midway (never device 0, whose owner makes the large purchase).
        Stolen = 1 + random.Next(_devices.Length - 1);
    }

    /// <summary>What happened so far (the UI reads it between steps).</summary>
    public MeshStats Stats => _stats;

    /// <summary>The index of the device stolen and revoked midway.</summary>
    public int Stolen { get; }

    public string JournalDirectory => Path.Combine(_directory, "journal");

    public string AuditDirectory => Path.Combine(_directory, "audit");

    private LedgerEngine Engine => _engine ?? throw new InvalidOperationException("The mesh is not set up.");

    private UInt128 InstanceId => Engine.InstanceId;

    /// <summary>Opens the ledger, creates the accounts, registers every device's key with its policy and opens its three channels.</summary>
    public async Task SetUpAsync()
    {
        Directory.CreateDirectory(_directory);
        _engine = await LedgerEngine.OpenAsync(new LedgerEngineOptions
        {
            Durability = DurabilityMode.Durable,    // every call below completes once its batch is fsynced
            Store = new FileLedgerStore(JournalDirectory),
            OperatorKey = _operatorKey,              // signs channel certificates and the audit checkpoints
            Audit = new AuditOptions { Directory = AuditDirectory },
        });
        _ledgerKey = Engine.AuditVerifierKey;

        // Accounts: the bank, the services, the devices (which may not spend more than they hold).
        var accounts = new List<Account> { new() { Id = BankId, LedgerId = Eur, Code = 1 } };
        accounts.AddRange(Enumerable.Range(0, _options.Services).Select(s => new Account { Id = ServiceId(s), LedgerId = Eur, Code = 3 }));
        accounts.AddRange(_devices.Select(d => new Account { Id = d.AccountId, LedgerId = Eur, Code = 2, Flags = AccountFlags.DebitsMustNotExceedCredits }));
        Expect(await Engine.CreateAccountsAsync(accounts.ToArray(), new CreateAccountResult[accounts.Count]), 0, "accounts created");
        Transfer[] funding = [.. _devices.Select(d => new Transfer { Id = (UInt128)(1_000_000 + d.Index), DebitAccountId = BankId, CreditAccountId = d.AccountId, Amount = Funds, LedgerId = Eur, Code = 1 })];
        Expect(await Engine.CreateTransfersAsync(funding, new CreateTransferResult[funding.Length]), 0, "devices funded");

        // Each device's key governs its account: at most 10.00 EUR a payment, 10.00 EUR a day, 0.90 EUR in any one
        // channel, and the owner's co-signature above 1.00 EUR. The owner's own key (unlimited) is registered on device 0.
        var policy = new SpendingPolicy
        {
            MaxPerPayment = 1_000_000,
            WindowLimit = 1_000_000,
            WindowLength = Day,
            StepUpThreshold = 100_000,
            MaxChannelDeposit = 90_000,
        };
        KeyOperation[] registrations =
        [
            .. _devices.Select(d => KeyOperation.RegisterEd25519(d.AccountId, d.Key.VerificationKey, policy)),
            KeyOperation.RegisterEd25519(_devices[0].AccountId, _ownerKey.VerificationKey, SpendingPolicy.Unlimited),
        ];
        Expect(await Engine.ManageKeysAsync(registrations, new KeyResult[registrations.Length]), 0, "keys registered");

        // Three channels per device, each opened under the device's key: vouchers to a service, ticks to another
        // (metered: a hash chain the open commits to), vouchers to the next device.
        ulong expires = NowNanos() + (120 * Minute);
        var opens = new List<ChannelOpenRequest>();
        foreach (Device d in _devices)
        {
            int service = d.Index % _options.Services;
            int metered = (d.Index + 1) % _options.Services;
            Device peer = _devices[(d.Index + 1) % _devices.Length];
            d.ServiceChannel = ChannelConfig.CreateCumulative(InstanceId, d.AccountId, ServiceId(service), Eur, d.Key.VerificationKey, expires, 10 * Minute, salt: 1);
            d.PeerChannel = ChannelConfig.CreateCumulative(InstanceId, d.AccountId, peer.AccountId, Eur, d.Key.VerificationKey, expires, 10 * Minute, salt: 2);
            d.Chain = HashChainWallet.FromSeed(d.ChainSeed, ChainLength);
            d.TickChannel = ChannelConfig.CreateHashChain(
                InstanceId, d.AccountId, ServiceId(metered), Eur, d.Key.VerificationKey, expires, 10 * Minute, salt: 3, d.Chain.Root, unitAmount: TickPrice, chainLength: ChainLength);
            d.ServiceWallet = ChannelWallet.Create(d.ServiceChannel, d.Key, ServiceDeposit);
            d.PeerWallet = ChannelWallet.Create(d.PeerChannel, d.Key, PeerDeposit);
            opens.Add(ChannelOpenRequest.Sign(d.Key, d.ServiceChannel, ServiceDeposit));
            opens.Add(ChannelOpenRequest.Sign(d.Key, d.PeerChannel, PeerDeposit));
            opens.Add(ChannelOpenRequest.Sign(d.Key, d.TickChannel, TickPrice * ChainLength));
        }

        ChannelOpenRequest[] requests = [.. opens];
        Expect(await Engine.OpenChannelsAsync(requests, new ChannelResult[requests.Length]), 0, "channels opened");
        _stats.ChannelsOpened = requests.Length;

        // Each payee gets the channel's certificate (bytes, as over a network) and checks it with the operator's
        // public key alone; from then on it verifies payments offline.
        VerificationKey operatorPublic = _operatorKey.VerificationKey;
        foreach (Device d in _devices)
        {
            d.ServiceReceiver = Receiver(d.ServiceChannel!, operatorPublic);
            d.PeerReceiver = Receiver(d.PeerChannel!, operatorPublic);
            ChannelCertificate tickCertificate = Certificate(d.TickChannel!.Id);
            Expect(
                TickVerifier.TryCreate(tickCertificate, operatorPublic, InstanceId, d.TickChannel.PayeeAccountId, out TickVerifier? verifier, out string? refusal),
                true,
                $"tick certificate of device {d.Index} ({refusal})");
            d.TickVerifier = verifier;
        }
    }

    /// <summary>One round: every device still in service pays, on every core; the payees verify each payment as it arrives.</summary>
    public void PayRound(int round)
    {
        ulong validUntil = NowNanos() + (60 * Minute);
        Parallel.ForEach(_devices, d =>
        {
            if (d.Revoked)
            {
                return;
            }

            // Each device draws from its own generator, so the choices do not depend on the threads' interleaving.
            Random random = d.Random;
            byte[] wire = new byte[Voucher.Size];
            long signed = 0;
            long declined = 0;
            long ticks = 0;
            for (int v = 0; v < _options.VouchersPerRound; v++)
            {
                bool toPeer = random.Next(2) == 0;
                UInt128 amount = (UInt128)random.Next(1, 60);
                ChannelWallet wallet = toPeer ? d.PeerWallet! : d.ServiceWallet!;
                if (!wallet.TryPay(lane: 0, amount, validUntil, out Voucher voucher))
                {
                    declined++; // the channel's deposit is spent: the device pays no more through it
                    continue;
                }

                // Over the wire as 128 bytes, then verified by the payee with the certificate's key.
                voucher.Encode(wire);
                Expect(Voucher.TryParse(wire, out Voucher received, out ChannelFormatError error), true, $"parse a voucher of device {d.Index} ({error})");
                ChannelReceiver payee = toPeer ? d.PeerReceiver! : d.ServiceReceiver!;
                Expect(payee.Accept(received, NowNanos(), out UInt128 increase), VoucherAcceptResult.Accepted, $"voucher {v} of device {d.Index} in round {round}");
                Expect(increase, amount, "what a voucher pays");
                signed++;
            }

            for (int t = 0; t < _options.TicksPerRound; t++)
            {
                Tick tick = d.Chain!.NextTick(d.TickChannel!.Id);
                Expect(d.TickVerifier!.Accept(tick), TickVerifyResult.Accepted, $"tick {t} of device {d.Index} in round {round}");
                ticks++;
            }

            Interlocked.Add(ref _stats.VouchersVerified, signed);
            Interlocked.Add(ref _stats.VouchersDeclined, declined);
            Interlocked.Add(ref _stats.TicksVerified, ticks);
        });
        _stats.Rounds = round + 1;
    }

    /// <summary>The payees redeem what they accepted since they last did: the best voucher of each channel, the best tick, in two batches.</summary>
    public async Task SettleAsync()
    {
        var vouchers = new List<Voucher>();
        var ticks = new List<Tick>();
        foreach (Device d in _devices)
        {
            foreach (ChannelReceiver receiver in new[] { d.ServiceReceiver!, d.PeerReceiver! })
            {
                UInt128 accepted = receiver.AcceptedTotal;
                if (accepted > d.Redeemed(receiver))
                {
                    vouchers.AddRange(receiver.BestVouchers());
                    d.SetRedeemed(receiver, accepted);
                }
            }

            if (d.TickVerifier!.LastIndex > d.TicksRedeemed && d.TickVerifier.TryGetBestTick(out Tick best))
            {
                ticks.Add(best);
                d.TicksRedeemed = d.TickVerifier.LastIndex;
            }
        }

        if (vouchers.Count > 0)
        {
            Voucher[] batch = [.. vouchers];
            var results = new ChannelResult[batch.Length];
            Expect(await Engine.RedeemVouchersAsync(batch, results), 0, $"vouchers redeemed ({string.Join(", ", results.Where(r => r != ChannelResult.Ok).Distinct())})");
        }

        if (ticks.Count > 0)
        {
            Tick[] batch = [.. ticks];
            var results = new ChannelResult[batch.Length];
            Expect(await Engine.RedeemTicksAsync(batch, results), 0, $"ticks redeemed ({string.Join(", ", results.Where(r => r != ChannelResult.Ok).Distinct())})");
        }

        _stats.Redemptions += vouchers.Count + ticks.Count;
        _stats.Settlements++;
    }

    /// <summary>
    /// The stolen device: its owner revokes its key. An order the thief signs after that is refused, and each channel
    /// the key funded starts closing; what the device already promised stays redeemable until the settle delay ends.
    /// </summary>
    public async Task<string> RevokeStolenAsync()
    {
        Device stolen = _devices[Stolen];
        Expect(await Engine.RevokeKeyAsync(stolen.KeyId), KeyResult.Ok, "revoke the stolen device's key");
        stolen.Revoked = true;
        var theft = new Transfer { Id = 8_000_000_001, DebitAccountId = stolen.AccountId, CreditAccountId = ServiceId(0), Amount = 50_000, LedgerId = Eur, Code = 9 };
        Expect(await Engine.ExecuteOrderAsync(PaymentOrder.Sign(stolen.Key, InstanceId, theft, NowNanos() + (5 * Minute))), OrderResult.KeyRevoked, "the thief's order");
        UInt128 exposed = UInt128.Zero;
        foreach (ChannelConfig channel in new[] { stolen.ServiceChannel!, stolen.PeerChannel!, stolen.TickChannel! })
        {
            Expect(Engine.TryGetChannel(channel.Id, out ChannelInfo info), true, "look up a stolen device's channel");
            Expect(info.Status, ChannelStatus.Closing, "a stolen device's channel after the revocation");
            exposed += info.Remaining;
        }

        _stats.Revoked = 1;
        return $"Device {Stolen} stolen: key revoked; the thief's order was refused (KeyRevoked); its 3 channels are closing, " +
            $"so at most {Money(exposed)} EUR still in their escrow can move, and only to the payees they name.";
    }

    /// <summary>Device 0 buys something above its step-up threshold: its key alone is refused, with the owner's co-signature it pays.</summary>
    public async Task<string> StepUpPurchaseAsync()
    {
        Device buyer = _devices[0];
        _purchaseId = 9_000_000_001;
        var transfer = new Transfer { Id = _purchaseId, DebitAccountId = buyer.AccountId, CreditAccountId = ServiceId(0), Amount = Purchase, LedgerId = Eur, Code = 7 };
        PaymentOrder order = PaymentOrder.Sign(buyer.Key, InstanceId, transfer, NowNanos() + (5 * Minute));
        Expect(await Engine.ExecuteOrderAsync(order), OrderResult.StepUpRequired, "the large purchase signed by the device alone");
        PaymentOrder coSigned = order.WithCoSignature(CoSignature.SignEd25519(_ownerKey, order, InstanceId));
        Expect(await Engine.ExecuteOrderAsync(coSigned), OrderResult.Ok, "the large purchase co-signed by the owner");
        _stats.StepUps = 1;
        return $"Device 0 bought for {Money(Purchase)} EUR: its key alone got StepUpRequired; co-signed by the owner's key, it paid.";
    }

    /// <summary>
    /// The end: a last settlement, every channel closed (cooperatively; the stolen device's are already closing and
    /// stay so until their settle delay), then the books: money is conserved, and each service was paid exactly what its
    /// receivers accepted offline.
    /// </summary>
    public async Task<string> CloseAndCheckBooksAsync()
    {
        await SettleAsync();
        ChannelClose[] closes = [.. _devices.Where(d => !d.Revoked).SelectMany(d => new[] { d.ServiceChannel!, d.PeerChannel!, d.TickChannel! }).Select(c => ChannelClose.Cooperative(c.Id))];
        Expect(await Engine.CloseChannelsAsync(closes, new ChannelResult[closes.Length]), 0, "channels closed");

        Account[] all = Engine.ReadAllAccounts();
        UInt128 debits = UInt128.Zero;
        UInt128 credits = UInt128.Zero;
        foreach (Account a in all)
        {
            debits += a.DebitsPosted;
            credits += a.CreditsPosted;
        }

        Expect(debits, credits, "debits and credits over every account (money is conserved)");
        _stats.PaidOffline = _devices.Aggregate(UInt128.Zero, (sum, d) => sum + d.ServiceReceiver!.AcceptedTotal + d.PeerReceiver!.AcceptedTotal + d.TickVerifier!.AcceptedAmount);
        for (int s = 0; s < _options.Services; s++)
        {
            UInt128 accepted = UInt128.Zero;
            foreach (Device d in _devices)
            {
                accepted += d.ServiceReceiver!.Config.PayeeAccountId == ServiceId(s) ? d.ServiceReceiver.AcceptedTotal : UInt128.Zero;
                accepted += d.TickChannel!.PayeeAccountId == ServiceId(s) ? d.TickVerifier!.AcceptedAmount : UInt128.Zero;
            }

            accepted += s == 0 ? Purchase : UInt128.Zero;
            Expect(Engine.TryGetAccount(ServiceId(s), out Account service), true, "look up a service");
            Expect(service.CreditsPosted, accepted, $"service {s}: paid on the ledger = accepted offline");
        }

        return $"Books: {all.Length:N0} accounts, debits = credits = {Money(debits)} EUR; every service was paid exactly what it accepted offline.";
    }

    /// <summary>The owner of device 0 takes a receipt for the large purchase and checks it offline with the ledger's published key.</summary>
    public string VerifyReceipt()
    {
        Expect(Engine.TryGetReceipt(_purchaseId, out AuditReceipt? receipt), ReceiptStatus.Ok, "the purchase's receipt");
        byte[] bytes = receipt!.ToBytes();
        string published = _ledgerKey!.ToString();
        Expect(NoteVerifierKey.TryParse(published, out NoteVerifierKey? key, out _), true, "parse the published verifier key");
        Expect(ReceiptVerifier.Verify(bytes, key!, out AuditLeaf leaf), ReceiptResult.Ok, "the receipt, verified offline");
        Expect(leaf.Result, 0u, "the result the receipt proves (Ok)");
        return $"Receipt for the purchase ({bytes.Length:N0} bytes) verified offline with the ledger's key alone: applied at batch {leaf.BatchNumber}, result Ok.";
    }

    /// <summary>Closes the ledger and audits its files offline: every batch hash, the chain, the tree, every checkpoint and signature.</summary>
    public async Task<AuditReport> AuditAsync(IProgress<AuditProgress>? progress)
    {
        await Engine.DisposeAsync();
        _engine = null;
        AuditReport report = await AuditVerifier.VerifyAsync(JournalDirectory, AuditDirectory, _ledgerKey!, progress);
        Expect(report.IsIntact, true, "the audit: " + string.Join("; ", report.Findings.Take(3)));
        _stats.BytesOnDisk = Directory.EnumerateFiles(_directory, "*", SearchOption.AllDirectories).Sum(f => new FileInfo(f).Length);
        _stats.SignaturesReverified = report.SignaturesVerified;
        _stats.AuditLeaves = report.Leaves;
        return report;
    }

    public async ValueTask DisposeAsync()
    {
        if (_engine is not null)
        {
            await _engine.DisposeAsync();
        }

        foreach (Device d in _devices)
        {
            d.Dispose();
        }

        _operatorKey.Dispose();
        _ownerKey.Dispose();
        if (_ownsDirectory && Directory.Exists(_directory))
        {
            Directory.Delete(_directory, recursive: true);
        }
    }

    public static string Money(UInt128 millicents) => (decimal.CreateChecked(millicents) / 100_000m).ToString("0.00", System.Globalization.CultureInfo.InvariantCulture);

    private static UInt128 ServiceId(int service) => (UInt128)(10_000 + service);

    private static ulong NowNanos() => (ulong)(DateTime.UtcNow.Ticks - DateTime.UnixEpoch.Ticks) * 100UL;

    // Keys from the run's seed, so a seed gives the same devices; a real device generates its key (SigningKey.Generate).
    private static SigningKey KeyFrom(Random random)
    {
        byte[] seed = new byte[32];
        random.NextBytes(seed);
        return SigningKey.Import(seed, SigningKeyFormat.RawSeed);
    }

    private ChannelCertificate Certificate(UInt128 channelId)
    {
        Expect(Engine.TryIssueCertificate(channelId, out ChannelCertificate? issued), true, "issue a certificate");
        byte[] bytes = new byte[ChannelCertificate.Size];
        issued!.Encode(bytes);
        Expect(ChannelCertificate.TryParse(bytes, out ChannelCertificate? parsed, out ChannelFormatError error), true, $"parse a certificate ({error})");
        return parsed!;
    }

    private ChannelReceiver Receiver(ChannelConfig channel, VerificationKey operatorPublic)
    {
        Expect(
            ChannelReceiver.TryCreate(Certificate(channel.Id), operatorPublic, InstanceId, channel.PayeeAccountId, redeemMargin: 5 * Minute, out ChannelReceiver? receiver, out string? refusal),
            true,
            $"a voucher certificate ({refusal})");
        return receiver!;
    }

    private static void Expect<T>(T actual, T expected, string what)
    {
        if (!EqualityComparer<T>.Default.Equals(actual, expected))
        {
            throw new UnexpectedResultException($"{what}: expected {expected}, got {actual}.");
        }
    }

    /// <summary>One device: its key, its generator, its three channels as payer, and (playing its payees) their verifiers.</summary>
    private sealed class Device(int index, SigningKey key, int randomSeed) : IDisposable
    {
        private readonly Dictionary<ChannelReceiver, UInt128> _redeemed = [];

        public int Index { get; } = index;

        public UInt128 AccountId { get; } = (UInt128)(100_000 + index);

        public SigningKey Key { get; } = key;

        public UInt128 KeyId { get; } = KeyIds.Of(key.VerificationKey);

        public Random Random { get; } = new(randomSeed);

        public byte[] ChainSeed { get; } = BitConverter.GetBytes((long)randomSeed).Concat(new byte[24]).ToArray();

        public bool Revoked { get; set; }

        public ChannelConfig? ServiceChannel { get; set; }

        public ChannelConfig? PeerChannel { get; set; }

        public ChannelConfig? TickChannel { get; set; }

        public ChannelWallet? ServiceWallet { get; set; }

        public ChannelWallet? PeerWallet { get; set; }

        public HashChainWallet? Chain { get; set; }

        public ChannelReceiver? ServiceReceiver { get; set; }

        public ChannelReceiver? PeerReceiver { get; set; }

        public TickVerifier? TickVerifier { get; set; }

        public uint TicksRedeemed { get; set; }

        public UInt128 Redeemed(ChannelReceiver receiver) => _redeemed.GetValueOrDefault(receiver);

        public void SetRedeemed(ChannelReceiver receiver, UInt128 total) => _redeemed[receiver] = total;

        public void Dispose()
        {
            Key.Dispose();
            Chain?.Dispose();
        }
    }
}

/// <summary>Counts of what the run did, for the live table and the summary.</summary>
internal sealed class MeshStats
{
    public long VouchersVerified;
    public long VouchersDeclined;
    public long TicksVerified;

    public int Rounds { get; set; }

    public int ChannelsOpened { get; set; }

    public long Redemptions { get; set; }

    public int Settlements { get; set; }

    public int Revoked { get; set; }

    public int StepUps { get; set; }

    public UInt128 PaidOffline { get; set; }

    public long BytesOnDisk { get; set; }

    public long SignaturesReverified { get; set; }

    public long AuditLeaves { get; set; }
}

internal sealed class UnexpectedResultException(string message) : Exception(message);
