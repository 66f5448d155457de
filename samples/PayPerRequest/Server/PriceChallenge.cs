namespace PayPerRequest.Server;

/// <summary>
/// The machine-readable price of a protected endpoint: what a request costs, whom to pay on which ledger, and how. Sent
/// in every <c>402 Payment Required</c> answer (<see cref="PaymentRequired"/>). Ids are 32 hex digits (128-bit values
/// do not fit a JSON number that every reader parses exactly); keys are base64.
/// </summary>
/// <param name="Price">What one request costs, in the ledger's smallest unit.</param>
/// <param name="LedgerId">The ledger (currency) the channel's accounts are on.</param>
/// <param name="Payee">The account the payments go to: the channel's payee.</param>
/// <param name="InstanceId">The ledger instance id every open request, voucher and certificate binds.</param>
/// <param name="OperatorKey">The ledger operator's Ed25519 verification key (base64), which signs channel certificates.</param>
/// <param name="Schemes">The accepted ways of paying.</param>
/// <param name="Open">How to open a channel.</param>
public sealed record PriceChallenge(
    ulong Price,
    uint LedgerId,
    string Payee,
    string InstanceId,
    string OperatorKey,
    IReadOnlyList<PaymentScheme> Schemes,
    ChannelOpenInstructions Open);
