// @authenio/xml-encryption ships no types; this is the one call the door makes.
declare module '@authenio/xml-encryption' {
  interface EncryptOptions {
    rsa_pub: string | Buffer
    pem: string | Buffer
    encryptionAlgorithm: string
    keyEncryptionAlgorithm: string
    disallowEncryptionWithInsecureAlgorithm?: boolean
    warnInsecureAlgorithm?: boolean
  }
  const xmlenc: {
    encrypt(
      content: string,
      options: EncryptOptions,
      callback: (err: Error | null, result: string) => void,
    ): void
  }
  export default xmlenc
}
