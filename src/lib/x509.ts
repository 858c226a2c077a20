/** @peculiar/x509 (certificates over WebCrypto) with the metadata polyfill its dependency injection needs first. */
import "reflect-metadata";

export * from "@peculiar/x509";
