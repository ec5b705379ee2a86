-- ray-patterns diagnostics and fixes in Python buffers (Neovim 0.10+, in init.lua)
vim.api.nvim_create_autocmd("FileType", {
  pattern = "python",
  callback = function(args)
    vim.lsp.start({
      name = "ray-patterns",
      cmd = { "ray-patterns", "server" },
      root_dir = vim.fs.root(args.buf, { "pyproject.toml", ".git" }),
    })
  end,
})
