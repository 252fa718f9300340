namespace Funnel.Samples.WebShop;

/// <summary>The shop's log messages.</summary>
internal static partial class ShopLog
{
    [LoggerMessage(Level = LogLevel.Warning, Message = "smtp4dev could not start ({Problem}); the shop's emails go to the /dev/outbox page instead.")]
    public static partial void Smtp4devUnavailable(ILogger logger, string? problem);

    [LoggerMessage(Level = LogLevel.Information, Message = "smtp4dev started: read the shop's emails at {WebUi}")]
    public static partial void Smtp4devStarted(ILogger logger, Uri webUi);

    [LoggerMessage(Level = LogLevel.Information, Message = "The shop keeps its data in {Storage} (ConnectionStrings:Funnel).")]
    public static partial void StorageChosen(ILogger logger, ShopStorageKind storage);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Webhook delivery answered {Status}; trying again in a second.")]
    public static partial void WebhookDeliveryFailed(ILogger logger, int status);

    [LoggerMessage(Level = LogLevel.Warning, Message = "No Shop:AdminKey configured: the admin key kept in {Path} is {Key}; sign in at {SignIn} to open the Funnel dashboard. Configure Shop:AdminKey in production.")]
    public static partial void AdminKeyGenerated(ILogger logger, string path, string key, string signIn);
}
