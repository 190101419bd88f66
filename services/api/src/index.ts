export * from "./app.ts";
export * from "./auth.ts";
export * from "./filename.ts";
export * from "./node-options.ts";
export * from "./openapi.ts";
export * from "./schemas.ts";
export * from "./server.ts";
export * from "./upload.ts";
