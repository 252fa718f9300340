namespace Funnel.Pipeline;

/// <summary>A handler registered with <c>AddFunnelHandler</c>: its unique name and type.</summary>
internal sealed record FunnelHandlerRegistration(string Name, Type HandlerType);
