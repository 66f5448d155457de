using System.Globalization;
using System.Text;
using Micropay.Core.Ledger;
using Xunit.Sdk;

namespace Micropay.Core.Tests.Ledger;

using Ledger = Micropay.Core.Ledger.LedgerStateMachine;

/// <summary>
/// Model-based tests: long random command sequences applied to both <see cref="LedgerStateMachine"/> and
/// <see cref="ReferenceLedger"/>, which must agree on every result and, after every batch, on the whole state.
/// </summary>
/// <remarks>
/// The generator reads the model's state so that most commands are meaningful (posts name real holds, transfers
/// name real accounts) while a steady share is deliberately wrong, retried, linked into failing chains, or sized
/// to overflow. Runs are seeded; a failure message starts with the seed and the batch number, so
/// <c>Run(seed, ...)</c> replays it exactly.
/// </remarks>
public sealed class LedgerModelTests
{
    private const int CiEvents = 10_000;

    private static readonly CreateTransferResult[] ResultsOnlyReachableNearTheEndOfTime = [CreateTransferResult.OverflowsTimeout];

    [Theory]
    [InlineData(1, false)]
    [InlineData(2, true)]
    [InlineData(3, false)]
    [InlineData(4, true)]
    [InlineData(5, false)]
    [InlineData(6, true)]
    [InlineData(7, false)]
    [InlineData(8, true)]
    public void RandomCommands_AppliedToLedgerAndModel_AgreeOnEveryResultAndState(int seed, bool endOfTime)
    {
        Coverage coverage = Run(seed, CiEvents, endOfTime, fullCompareEvery: 1);

        // A run that agrees but never reached a result proves nothing about it: the generator must exercise
        // every outcome (the clock overflow only when the run moves the clock near the end of time).
        var missing = Enum.GetValues<CreateTransferResult>()
            .Where(r => endOfTime || !ResultsOnlyReachableNearTheEndOfTime.Contains(r))
            .Where(r => !coverage.TransferResults.Contains(r))
            .Select(r => r.ToString())
            .Concat(Enum.GetValues<CreateAccountResult>().Where(r => !coverage.AccountResults.Contains(r)).Select(r => "account " + r))
            .Concat(Enum.GetValues<PendingStatus>().Where(s => !coverage.FinalStatuses.Contains(s)).Select(s => "status " + s))
            .ToList();
        Assert.True(
            missing.Count == 0,
            $"seed {seed} never reached: {string.Join(", ", missing)}; reached: " +
            string.Join(", ", coverage.TransferResultCounts.OrderByDescending(p => p.Value).Select(p => $"{p.Key} {p.Value}")));
    }

    [Theory]
    [Trait("Category", "Stress")]
    [InlineData(101, true)]
    [InlineData(102, false)]
    [InlineData(103, true)]
    public void RandomCommands_LongRun_AgreeOnEveryResultAndState(int seed, bool endOfTime)
    {
        // Full-state comparison is quadratic in the number of transfers, so the long run compares the batch's own
        // ids after every batch and everything every 25 batches.
        Run(seed, 120_000, endOfTime, fullCompareEvery: 25);
    }

    /// <summary>What a run reached, so a test can tell a meaningful run from a trivial one.</summary>
    internal sealed class Coverage
    {
        public HashSet<CreateTransferResult> TransferResults { get; } = [];

        /// <summary>How often each transfer result occurred, for tuning the generator when coverage fails.</summary>
        public Dictionary<CreateTransferResult, int> TransferResultCounts { get; } = [];

        public HashSet<CreateAccountResult> AccountResults { get; } = [];

        public HashSet<PendingStatus> FinalStatuses { get; } = [];
    }

    /// <summary>Applies <paramref name="events"/> random events to a ledger and the model, failing at the first difference.</summary>
    internal static Coverage Run(int seed, int events, bool endOfTime, int fullCompareEvery)
    {
        var ledger = new LedgerStateMachine();
        var model = new ReferenceLedger();
        var generator = new CommandGenerator(new Random(seed), model, events, endOfTime);
        var coverage = new Coverage();
        int applied = 0;
        for (int batchNumber = 0; applied < events; batchNumber++)
        {
            Batch batch = generator.NextBatch(applied);
            applied += batch.Count;
            string Context() => $"seed {seed}, batch #{batchNumber} ({batch.Describe()})";
            if (batch.Accounts is { } accounts)
            {
                var actual = new CreateAccountResult[accounts.Length];
                var expected = new CreateAccountResult[accounts.Length];
                int actualFailed = ledger.CreateAccounts(batch.Timestamp, accounts, actual);
                int expectedFailed = model.CreateAccounts(batch.Timestamp, accounts, expected);
                CompareResults(actual, expected, actualFailed, expectedFailed, Context);
                coverage.AccountResults.UnionWith(actual);
            }
            else
            {
                Transfer[] transfers = batch.Transfers!;
                var actual = new CreateTransferResult[transfers.Length];
                var expected = new CreateTransferResult[transfers.Length];
                int actualFailed = ledger.CreateTransfers(batch.Timestamp, transfers, actual);
                int expectedFailed = model.CreateTransfers(batch.Timestamp, transfers, expected);
                CompareResults(actual, expected, actualFailed, expectedFailed, Context);
                coverage.TransferResults.UnionWith(actual);
                foreach (CreateTransferResult result in actual)
                {
                    coverage.TransferResultCounts[result] = coverage.TransferResultCounts.GetValueOrDefault(result) + 1;
                }
            }

            bool full = batchNumber % fullCompareEvery == 0 || applied >= events;
            string? difference = full
                ? model.FindDifference(ledger, generator.SubmittedTransferIds)
                : model.FindDifference(ledger, batch.TransferIds);
            if (difference is not null)
            {
                throw new XunitException($"{Context()}: state differs after the batch: {difference}");
            }
        }

        foreach (Transfer transfer in model.Transfers)
        {
            model.TryGetPendingStatus(transfer.Id, out PendingStatus status);
            coverage.FinalStatuses.Add(status);
        }

        return coverage;
    }

    private static void CompareResults<TResult>(TResult[] actual, TResult[] expected, int actualFailed, int expectedFailed, Func<string> context)
        where TResult : struct, Enum
    {
        for (int i = 0; i < actual.Length; i++)
        {
            if (!EqualityComparer<TResult>.Default.Equals(actual[i], expected[i]))
            {
                throw new XunitException(
                    $"{context()}: event {i} result: ledger {actual[i]}, model {expected[i]}\n" +
                    $"  ledger results: {string.Join(", ", actual)}\n  model results:  {string.Join(", ", expected)}");
            }
        }

        if (actualFailed != expectedFailed)
        {
            throw new XunitException($"{context()}: failed count: ledger {actualFailed}, model {expectedFailed}");
        }
    }

    /// <summary>One batch: accounts or transfers, with its batch timestamp.</summary>
    internal sealed record Batch(ulong Timestamp, Account[]? Accounts, Transfer[]? Transfers)
    {
        public int Count => Accounts?.Length ?? Transfers!.Length;

        public IEnumerable<UInt128> TransferIds =>
            Transfers is null ? [] : Transfers.SelectMany(t => new[] { t.Id, t.PendingId });

        public string Describe()
        {
            var text = new StringBuilder();
            text.Append(CultureInfo.InvariantCulture, $"timestamp {Timestamp}, {Count} {(Accounts is null ? "transfers" : "accounts")}");
            if (Accounts is not null)
            {
                foreach (Account account in Accounts)
                {
                    text.Append(CultureInfo.InvariantCulture, $"\n    {account} Reserved = {account.Reserved}, UserData = {account.UserData128}/{account.UserData64}/{account.UserData32}");
                }
            }
            else
            {
                foreach (Transfer transfer in Transfers!)
                {
                    text.Append(CultureInfo.InvariantCulture, $"\n    {transfer} UserData = {transfer.UserData128}/{transfer.UserData64}/{transfer.UserData32}");
                }
            }

            return text.ToString();
        }
    }

    /// <summary>
    /// Generates batches that mix every mode, valid and invalid, reading the model to aim at real accounts and holds.
    /// </summary>
    private sealed class CommandGenerator
    {
        // Nanoseconds the clock keeps in reserve near the end of time, so a batch timestamp can never overflow.
        private const ulong EndOfTimeRoom = 1UL << 44;
        private const ulong Second = 1_000_000_000;

        private static readonly UInt128 Big64 = (UInt128)ulong.MaxValue + 1;
        private static readonly UInt128 FirstReserved = new(0xFFFF_FFFF_0000_0000, 0);

        private readonly Random _random;
        private readonly ReferenceLedger _model;
        private readonly int _events;
        private readonly bool _endOfTime;
        private readonly UInt128[] _accountPool;
        private readonly List<Account> _submittedAccounts = [];
        private readonly List<Transfer> _submittedTransfers = [];
        private readonly List<UInt128> _holdIds = [];
        private readonly List<Transfer> _batchHolds = [];
        private ulong _nextId = 1;
        private ulong _nextAccountId = 100;
        private bool _clockAtEndOfTime;

        public CommandGenerator(Random random, ReferenceLedger model, int events, bool endOfTime)
        {
            _random = random;
            _model = model;
            _events = events;
            _endOfTime = endOfTime;

            // Small ids, and a few at the edges of the usable id space (below ReservedIds' range), and one reserved id
            // (never 0 or MaxValue).
            var pool = new List<UInt128>();
            for (uint id = 1; id <= 36; id++)
            {
                pool.Add(id);
            }

            pool.AddRange([Big64, Big64 + 1, FirstReserved - 1, FirstReserved - 2, UInt128.One << 127, UInt128.MaxValue - 1]);
            _accountPool = [.. pool];
        }

        /// <summary>Every transfer id submitted so far, probed when comparing states (the ledger cannot enumerate them).</summary>
        public HashSet<UInt128> SubmittedTransferIds { get; } = [];

        public Batch NextBatch(int applied)
        {
            ulong timestamp = NextTimestamp(applied);
            _batchHolds.Clear();

            // The first batches open accounts so transfers have something to move between.
            if (applied < 40 || _random.Next(100) < 14)
            {
                int size = applied < 40 ? 20 : EmptyOr(_random.Next(1, 9));
                var accounts = new Account[size];
                for (int i = 0; i < size; i++)
                {
                    accounts[i] = applied < 40 ? Template(_accountPool[_random.Next(_accountPool.Length)]) : NextAccount();
                }

                LinkChains(accounts.AsSpan(), (ref Account a) => a.Flags |= AccountFlags.Linked);
                _submittedAccounts.AddRange(accounts);
                return new Batch(timestamp, accounts, null);
            }

            // Now and then a batch longer than the ledger's look-ahead ring (64 events), so its wrap-around runs.
            int count = Chance(3) ? _random.Next(64, 200) : EmptyOr(_random.Next(1, 31));
            var transfers = new Transfer[count];
            for (int i = 0; i < count; i++)
            {
                transfers[i] = NextTransfer();
                if ((transfers[i].Flags & TransferFlags.Pending) != 0)
                {
                    _batchHolds.Add(transfers[i]);
                }
            }

            LinkChains(transfers.AsSpan(), (ref Transfer t) => t.Flags |= TransferFlags.Linked);
            foreach (Transfer t in transfers)
            {
                _submittedTransfers.Add(t);
                SubmittedTransferIds.Add(t.Id);
                if ((t.Flags & TransferFlags.Pending) != 0)
                {
                    _holdIds.Add(t.Id);
                }
            }

            return new Batch(timestamp, null, transfers);
        }

        private delegate void Link<T>(ref T item);

        private int EmptyOr(int size) => _random.Next(100) < 4 ? 0 : size;

        private bool Chance(int percent) => _random.Next(100) < percent;

        private T Pick<T>(IReadOnlyList<T> items) => items[_random.Next(items.Count)];

        /// <summary>Links runs of events into chains; sometimes leaves the batch's last event linked (an open chain).</summary>
        private void LinkChains<T>(Span<T> events, Link<T> link)
        {
            if (events.Length == 0)
            {
                return;
            }

            if (Chance(35))
            {
                int i = 0;
                while (i < events.Length - 1)
                {
                    if (Chance(30))
                    {
                        int length = _random.Next(2, 6);
                        for (int k = i; k < Math.Min(events.Length - 1, i + length - 1); k++)
                        {
                            link(ref events[k]);
                        }

                        i += length;
                    }
                    else
                    {
                        i++;
                    }
                }
            }

            if (Chance(8))
            {
                link(ref events[^1]);
            }
        }

        // ---- The clock. ----

        private ulong NextTimestamp(int applied)
        {
            ulong last = _model.LastTimestamp;
            if (_endOfTime && !_clockAtEndOfTime && applied >= _events * 4 / 5)
            {
                // Move near the end of time so long timeouts overflow the clock (OverflowsTimeout).
                _clockAtEndOfTime = true;
                return ulong.MaxValue - EndOfTimeRoom;
            }

            if (last > ulong.MaxValue - (EndOfTimeRoom / 2))
            {
                return last + 1;
            }

            int r = _random.Next(100);
            return r switch
            {
                < 35 => last + (ulong)_random.NextInt64(1, 200_000_000),
                < 52 => last + (ulong)_random.NextInt64(500_000_000, 3 * (long)Second),
                < 56 => last + (ulong)_random.NextInt64(10 * (long)Second, 100 * (long)Second),
                < 66 => last - Math.Min(last, (ulong)_random.NextInt64(0, 2 * (long)Second)),
                < 69 => 0,
                < 74 => last,
                < 90 => AtAnExpiry(last),
                _ => last + 1,
            };
        }

        /// <summary>A timestamp just before, at or after an open hold's expiry, or a batch that straddles it.</summary>
        private ulong AtAnExpiry(ulong last)
        {
            for (int attempt = 0; attempt < 8 && _holdIds.Count > 0; attempt++)
            {
                UInt128 id = _holdIds[_holdIds.Count - 1 - _random.Next(Math.Min(_holdIds.Count, 60))];
                if (_model.TryGetTransfer(id, out Transfer hold) && hold.Timeout != 0 &&
                    _model.TryGetPendingStatus(id, out PendingStatus status) && status == PendingStatus.Pending)
                {
                    ulong expiresAt = hold.Timestamp + ((ulong)hold.Timeout * Second);
                    ulong candidate = expiresAt - 4 + (ulong)_random.Next(0, 7);
                    return candidate > ulong.MaxValue - EndOfTimeRoom ? last + 1 : candidate;
                }
            }

            return last + 1;
        }

        // ---- Accounts. ----

        private Account Template(UInt128 id)
        {
            int kind = (int)(id % 12);
            return new Account
            {
                Id = id,
                LedgerId = id % 8 == 7 ? 2u : 1u,
                Code = (ushort)(1 + (id % 3)),
                Flags = kind switch
                {
                    1 or 5 => AccountFlags.DebitsMustNotExceedCredits,
                    2 or 6 => AccountFlags.CreditsMustNotExceedDebits,
                    9 => AccountFlags.Closed,
                    _ => AccountFlags.None,
                },
                UserData128 = unchecked(id * 3), // wraps for the ids near the top, on purpose
                UserData64 = (ulong)(id % 1000),
                UserData32 = (uint)(id % 7),
            };
        }

        private Account NextAccount()
        {
            int r = _random.Next(100);
            if (r < 30)
            {
                return Template(Pick(_accountPool));
            }

            if (r < 40)
            {
                // Accounts keep getting closed by closing transfers, so fresh ones keep arriving.
                return Template(_nextAccountId++);
            }

            if (r < 55 && _submittedAccounts.Count > 0)
            {
                return Pick(_submittedAccounts);
            }

            // Changing one field of a stored account (as submitted: no balances, no timestamp) must name that field.
            Account a = r < 70 && CreatedAccount() is { } stored
                ? stored with { Timestamp = 0, DebitsPending = 0, DebitsPosted = 0, CreditsPending = 0, CreditsPosted = 0 }
                : Template(Pick(_accountPool));
            a.Flags &= ~AccountFlags.Linked;
            switch (r < 70 ? _random.Next(6) : _random.Next(6, 20))
            {
                case 0: a.Flags ^= AccountFlags.Closed; break;
                case 1: unchecked { a.UserData128++; } break;
                case 2: unchecked { a.UserData64++; } break;
                case 3: unchecked { a.UserData32++; } break;
                case 4: unchecked { a.LedgerId++; } break;
                case 5: unchecked { a.Code++; } break;
                case 6: a.Timestamp = 1; break;
                case 7: a.Reserved = 1; break;
                case 8: a.Flags |= (AccountFlags)(1 << _random.Next(4, 16)); break;
                case 9: a.Id = 0; break;
                case 10: a.Id = UInt128.MaxValue; break;
                // The checks after the existence check need an id that was never created.
                case 11: a.Id = NeverCreatedAccountId(); a.Flags |= AccountFlags.DebitsMustNotExceedCredits | AccountFlags.CreditsMustNotExceedDebits; break;
                case 12: a.Id = NeverCreatedAccountId(); a.DebitsPending = 1; break;
                case 13: a.Id = NeverCreatedAccountId(); a.DebitsPosted = 1; break;
                case 14: a.Id = NeverCreatedAccountId(); a.CreditsPending = 1; break;
                case 15: a.Id = NeverCreatedAccountId(); a.CreditsPosted = 1; break;
                case 16: a.Id = NeverCreatedAccountId(); a.LedgerId = 0; break;
                case 17: a.Id = NeverCreatedAccountId(); a.Code = 0; break;
                case 18: a.Id = FirstReserved + (UInt128)_random.Next(0, 3); break;
                default: a.Id = (UInt128)_random.Next(37, 45); break;
            }

            return a;
        }

        /// <summary>An id only ever used with an invalid field, so it never exists.</summary>
        private UInt128 NeverCreatedAccountId() => (UInt128)_random.Next(1000, 1050);

        // ---- Transfers. ----

        private UInt128 NewId()
        {
            ulong n = _nextId++;

            // Mostly small ids; some near the top of the usable id space, a few reserved, some across the 64-bit boundary.
            return _random.Next(100) switch
            {
                < 1 => UInt128.MaxValue - 1 - n,
                < 4 => FirstReserved - 1 - n,
                < 8 => Big64 + n,
                _ => n,
            };
        }

        private Account? CreatedAccount(Func<Account, bool>? filter = null)
        {
            var accounts = _model.Accounts.Where(a => filter is null || filter(a)).ToList();
            return accounts.Count == 0 ? null : Pick(accounts);
        }

        // Mostly open accounts: closed ones (a closing transfer that was posted closes an account for good)
        // would otherwise soon reject most transfers.
        private UInt128 SomeAccountId() =>
            Chance(90) && CreatedAccount(a => Chance(10) || (a.Flags & AccountFlags.Closed) == 0) is { } a ? a.Id : Pick(_accountPool);

        private UInt128 SmallAmount() => _random.Next(100) switch
        {
            < 55 => (UInt128)_random.Next(1, 21),
            < 80 => (UInt128)_random.Next(0, 201),
            < 85 => UInt128.Zero,
            _ => (UInt128)_random.Next(1, 2001),
        };

        private UInt128 HugeAmount() => _random.Next(5) switch
        {
            0 => UInt128.MaxValue,
            1 => UInt128.MaxValue - (UInt128)_random.Next(0, 1000),
            2 => (UInt128.MaxValue / 2) + (UInt128)_random.Next(0, 3),
            3 => UInt128.One << 127,
            _ => UInt128.MaxValue - (UInt128)_random.Next(0, 3) - (UInt128.MaxValue / 4),
        };

        // Near the end of time, long timeouts are what is interesting: they overflow the clock.
        private uint SomeTimeout() => (_clockAtEndOfTime ? _random.Next(70, 100) : _random.Next(100)) switch
        {
            < 40 => 0,
            < 80 => (uint)_random.Next(1, 4),
            < 92 => (uint)_random.Next(4, 60),
            < 96 => (uint)_random.Next(20_000, 100_000),
            _ => uint.MaxValue - (uint)_random.Next(0, 10),
        };

        private Transfer Plain(UInt128 debit, UInt128 credit, UInt128 amount, TransferFlags flags = TransferFlags.None)
        {
            uint ledgerId = _model.TryGetAccount(debit, out Account dr) ? dr.LedgerId : 1u;
            return new Transfer
            {
                Id = NewId(),
                DebitAccountId = debit,
                CreditAccountId = credit,
                Amount = amount,
                LedgerId = ledgerId,
                Code = (ushort)_random.Next(1, 4),
                Flags = flags,
                UserData128 = (UInt128)_random.Next(0, 3),
                UserData64 = (ulong)_random.Next(0, 3),
                UserData32 = (uint)_random.Next(0, 3),
            };
        }

        private (UInt128 Debit, UInt128 Credit) TwoAccounts()
        {
            UInt128 debit = SomeAccountId();
            UInt128 credit = SomeAccountId();
            for (int attempt = 0; attempt < 5 && credit == debit; attempt++)
            {
                credit = SomeAccountId();
            }

            // Prefer a pair on one ledger, as real traffic would be; mismatches still occur.
            if (Chance(80) && _model.TryGetAccount(debit, out Account dr) &&
                CreatedAccount(a => a.LedgerId == dr.LedgerId && a.Id != debit && (a.Flags & AccountFlags.Closed) == 0) is { } sameLedger)
            {
                credit = sameLedger.Id;
            }

            return (debit, credit);
        }

        private Transfer NextTransfer()
        {
            int r = _random.Next(100);
            Transfer t = r switch
            {
                < 22 => SinglePhase(),
                < 38 => Hold(),
                < 51 => Post(),
                < 58 => Void(),
                < 65 => Balancing(),
                < 71 => Funding(),
                < 82 => Retry(),
                < 89 => Invalid(),
                < 96 => Huge(),
                _ => ClosingHold(),
            };
            return t;
        }

        private Transfer SinglePhase()
        {
            (UInt128 debit, UInt128 credit) = TwoAccounts();
            return Plain(debit, credit, SmallAmount());
        }

        private Transfer Hold()
        {
            (UInt128 debit, UInt128 credit) = TwoAccounts();
            Transfer t = Plain(debit, credit, SmallAmount(), TransferFlags.Pending);
            t.Timeout = SomeTimeout();
            return t;
        }

        private Transfer ClosingHold()
        {
            Transfer t = Hold();
            t.Flags |= _random.Next(3) switch
            {
                0 => TransferFlags.ClosingDebit,
                1 => TransferFlags.ClosingCredit,
                _ => TransferFlags.ClosingDebit | TransferFlags.ClosingCredit,
            };
            return t;
        }

        private Transfer Balancing()
        {
            Transfer t = Chance(70) ? SinglePhase() : Hold();
            t.Flags |= _random.Next(4) switch
            {
                0 or 1 => TransferFlags.BalancingDebit,
                2 => TransferFlags.BalancingCredit,
                _ => TransferFlags.BalancingDebit | TransferFlags.BalancingCredit,
            };
            if (Chance(30))
            {
                t.Amount = UInt128.MaxValue;
            }

            return t;
        }

        /// <summary>Gives limited accounts the balance they need, so their transfers do not all fail.</summary>
        private Transfer Funding()
        {
            bool credit = Chance(60);
            AccountFlags flag = credit ? AccountFlags.DebitsMustNotExceedCredits : AccountFlags.CreditsMustNotExceedDebits;
            if (CreatedAccount(a => (a.Flags & flag) != 0) is not { } limited ||
                CreatedAccount(a => a.Flags == AccountFlags.None && a.LedgerId == limited.LedgerId) is not { } plain)
            {
                return SinglePhase();
            }

            UInt128 amount = (UInt128)_random.Next(50, 500);
            return credit ? Plain(plain.Id, limited.Id, amount) : Plain(limited.Id, plain.Id, amount);
        }

        private Transfer Huge()
        {
            Transfer t = Chance(60) ? SinglePhase() : Hold();
            t.Amount = HugeAmount();

            // Aim at the overflow checks on one side: the credit side overflows only if the debit side does not,
            // so pair the account richest on one side with the one poorest on the same side.
            var accounts = _model.Accounts.Where(a => a.LedgerId == 1 && a.Flags == AccountFlags.None).ToList();
            if (accounts.Count >= 2 && Chance(60))
            {
                Account richCredits = accounts.MaxBy(a => a.CreditsPending + a.CreditsPosted)!;
                Account poorDebits = accounts.Where(a => a.Id != richCredits.Id).MinBy(a => a.DebitsPending + a.DebitsPosted)!;
                Account richDebits = accounts.MaxBy(a => a.DebitsPending + a.DebitsPosted)!;
                Account poorCredits = accounts.Where(a => a.Id != richDebits.Id).MinBy(a => a.CreditsPending + a.CreditsPosted)!;
                bool creditSide = Chance(50);
                (t.DebitAccountId, t.CreditAccountId) = creditSide ? (poorDebits.Id, richCredits.Id) : (richDebits.Id, poorCredits.Id);
                t.LedgerId = 1;

                // Sometimes one more than the room left in the rich side's pending + posted sum: that overflows the sum
                // alone (OverflowsDebits, OverflowsCredits) when the account holds both pending and posted amounts, since
                // a hold checks both posted balances before the sums; otherwise it overflows the one balance it holds.
                UInt128 sum = creditSide ? richCredits.CreditsPending + richCredits.CreditsPosted : richDebits.DebitsPending + richDebits.DebitsPosted;
                if (sum != 0 && Chance(40))
                {
                    t.Amount = UInt128.MaxValue - sum + 1;
                }
            }

            return t;
        }

        /// <summary>A hold to post or void: mostly an open one, sometimes one already settled, or one of this batch.</summary>
        private Transfer? SomeHold()
        {
            if (_batchHolds.Count > 0 && Chance(15))
            {
                return Pick(_batchHolds);
            }

            Transfer? settled = null;
            for (int attempt = 0; attempt < 8 && _holdIds.Count > 0; attempt++)
            {
                UInt128 id = _holdIds[_holdIds.Count - 1 - _random.Next(Math.Min(_holdIds.Count, 80))];
                if (_model.TryGetTransfer(id, out Transfer hold))
                {
                    _model.TryGetPendingStatus(id, out PendingStatus status);
                    if (status == PendingStatus.Pending || Chance(10))
                    {
                        return hold;
                    }

                    settled = hold;
                }
            }

            return settled;
        }

        private Transfer Post() => PostOrVoid(TransferFlags.PostPendingTransfer);

        private Transfer Void() => PostOrVoid(TransferFlags.VoidPendingTransfer);

        private Transfer PostOrVoid(TransferFlags mode)
        {
            var t = new Transfer { Id = NewId(), Flags = mode, UserData64 = (ulong)_random.Next(0, 2) };
            if (SomeHold() is not { } p)
            {
                t.PendingId = _random.Next(3) == 0 && _holdIds.Count > 0 ? Pick(_holdIds) : (UInt128)_random.Next(1, 50_000);
                t.Amount = SmallAmount();
                return t;
            }

            t.PendingId = p.Id;
            bool post = mode == TransferFlags.PostPendingTransfer;
            int r = _random.Next(100);
            t.Amount = post
                ? r switch
                {
                    < 30 => UInt128.MaxValue,
                    < 50 => p.Amount,
                    < 75 => p.Amount <= 1000 ? (UInt128)_random.Next(0, (int)p.Amount + 1) : p.Amount - (UInt128)_random.Next(1, 1000),
                    < 85 => p.Amount == UInt128.MaxValue ? p.Amount : p.Amount + 1,
                    < 90 => UInt128.Zero,
                    _ => SmallAmount(),
                }
                : r switch
                {
                    < 45 => UInt128.Zero,
                    < 85 => p.Amount,
                    _ => SmallAmount(),
                };

            // Mostly leave the account ids, ledger and code to the pending transfer; sometimes name them, or name
            // them wrongly.
            r = _random.Next(100);
            if (r >= 65)
            {
                t.DebitAccountId = p.DebitAccountId;
                t.CreditAccountId = p.CreditAccountId;
                t.LedgerId = p.LedgerId;
                t.Code = p.Code;
                if (r >= 88)
                {
                    switch (_random.Next(4))
                    {
                        case 0: t.DebitAccountId = SomeAccountId(); break;
                        case 1: t.CreditAccountId = SomeAccountId(); break;
                        case 2: unchecked { t.LedgerId++; } break;
                        default: unchecked { t.Code++; } break;
                    }
                }
            }

            // Pending ids that are wrong in every way the docs list.
            if (Chance(8))
            {
                t.PendingId = _random.Next(6) switch
                {
                    0 => UInt128.Zero,
                    1 => UInt128.MaxValue,
                    2 => t.Id,
                    3 => (UInt128)_random.Next(1_000_000, 2_000_000),
                    4 when _submittedTransfers.Count > 0 => Pick(_submittedTransfers).Id,
                    _ => p.Id,
                };
            }

            if (Chance(3))
            {
                t.Timeout = 1;
            }

            return t;
        }

        /// <summary>An earlier transfer again: identical (idempotent retry) or with one field changed.</summary>
        private Transfer Retry()
        {
            if (_submittedTransfers.Count == 0)
            {
                return SinglePhase();
            }

            // Lean towards recent transfers, and towards ones that were stored (a retry of those is compared
            // field by field); the rest were burnt or never stored.
            Transfer t = default;
            for (int attempt = 0; attempt < 4; attempt++)
            {
                t = Chance(70)
                    ? _submittedTransfers[_submittedTransfers.Count - 1 - _random.Next(Math.Min(_submittedTransfers.Count, 100))]
                    : Pick(_submittedTransfers);
                if (_model.TryGetTransfer(t.Id, out _) && Chance(85))
                {
                    break;
                }
            }

            t.Flags &= ~TransferFlags.Linked;
            if (Chance(55))
            {
                return t;
            }

            bool postOrVoid = (t.Flags & (TransferFlags.PostPendingTransfer | TransferFlags.VoidPendingTransfer)) != 0;
            switch (_random.Next(postOrVoid ? 14 : 11))
            {
                case 0: t.Flags ^= TransferFlags.Pending; break;
                case 1: unchecked { t.PendingId++; } break;
                case 2: unchecked { t.Timeout++; } break;
                case 3: t.DebitAccountId = SomeAccountId(); break;
                case 4: t.CreditAccountId = SomeAccountId(); break;
                case 5: t.Amount = _random.Next(3) switch { 0 => UInt128.MaxValue, 1 => UInt128.Zero, _ => t.Amount == UInt128.MaxValue ? 0 : t.Amount + 1 }; break;
                case 6: unchecked { t.UserData128++; } break;
                case 7: unchecked { t.UserData64++; } break;
                case 8: unchecked { t.UserData32++; } break;
                case 9: unchecked { t.LedgerId++; } break;
                case 10: unchecked { t.Code++; } break;

                // A post or void may leave these to the pending transfer: zero still matches the stored values.
                case 11:
                    t.DebitAccountId = 0;
                    t.CreditAccountId = 0;
                    break;
                case 12:
                    t.LedgerId = 0;
                    t.Code = 0;
                    break;
                default: t.Amount = UInt128.MaxValue; break;
            }

            return t;
        }

        /// <summary>A transfer with one field invalid in a way the docs list.</summary>
        private Transfer Invalid()
        {
            Transfer t = Chance(50) ? SinglePhase() : Hold();
            switch (_random.Next(22))
            {
                case 0: t.Timestamp = (ulong)_random.Next(1, 100); break;
                case 1: t.Flags |= (TransferFlags)(1 << _random.Next(8, 16)); break;
                case 2: t.Id = 0; break;
                case 3: t.Id = UInt128.MaxValue; break;
                case 4: t.DebitAccountId = 0; break;
                case 5: t.DebitAccountId = UInt128.MaxValue; break;
                case 6: t.CreditAccountId = 0; break;
                case 7: t.CreditAccountId = UInt128.MaxValue; break;
                case 8: t.CreditAccountId = t.DebitAccountId; break;
                case 9: t.PendingId = (UInt128)_random.Next(1, 100); break;
                case 10: t.Flags &= ~TransferFlags.Pending; t.Timeout = (uint)_random.Next(1, 10); break;
                case 11: t.Flags = (t.Flags & ~TransferFlags.Pending) | TransferFlags.ClosingDebit; t.Timeout = 0; break;
                case 12: t.LedgerId = 0; break;
                case 13: t.Code = 0; break;
                case 14: t.LedgerId = t.LedgerId == 1 ? 2u : 1u; break;
                case 15: t.DebitAccountId = (UInt128)_random.Next(100, 200); break;
                case 16: t.CreditAccountId = (UInt128)_random.Next(100, 200); break;
                case 17: t.Flags |= TransferFlags.PostPendingTransfer; break;
                case 18: t.Flags = TransferFlags.PostPendingTransfer | TransferFlags.VoidPendingTransfer; break;
                case 19: t.Flags = TransferFlags.VoidPendingTransfer | (Chance(50) ? TransferFlags.BalancingCredit : TransferFlags.ClosingCredit); break;
                case 20:
                    // Accounts on two different ledgers.
                    if (CreatedAccount(a => a.LedgerId == 2) is { } other && CreatedAccount(a => a.LedgerId == 1) is { } one)
                    {
                        t.DebitAccountId = one.Id;
                        t.CreditAccountId = other.Id;
                    }

                    break;
                default: t.Flags = TransferFlags.Pending | TransferFlags.PostPendingTransfer; break;
            }

            return t;
        }
    }
}
